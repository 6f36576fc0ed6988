import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

/** The API Gateway HTTP API (payload format 2.0) event: what Lambda receives and the local server builds. */
export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2;
/** `context` is Lambda's (absent when a test or the local runtime calls the handler without one). */
export type HttpHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

import { createServer, type Server } from 'node:http';
import type { FunctionName, Route } from '../../functions/routes.js';
import type { HttpHandler } from '../../shared/http/types.js';
import { logger } from '../../shared/logger.js';
import { apiGatewayMaxBodyBytes, toApiGatewayEvent, writeResult } from './api-gateway.js';
import { invocation } from './invocation.js';
import { BodyTooLarge, readBody } from './read-body.js';
import { routeMatcher } from './route-matcher.js';

/** Loads the Lambda handler of a function: the same module Lambda runs. */
export type HandlerLoader = (name: FunctionName) => Promise<HttpHandler>;

export const importHandler: HandlerLoader = (name) => importFunction<HttpHandler>(name);

/** The handler of `functions/<name>.ts`, whatever its event: the same module Lambda runs. */
export async function importFunction<Handler>(name: FunctionName): Promise<Handler> {
  const entry = new URL(`../../functions/${name}.ts`, import.meta.url).href;
  const module = (await import(/* @vite-ignore */ entry)) as { handler: Handler };
  return module.handler;
}

/**
 * The local stand-in for API Gateway (HTTP API): matches the route table as API Gateway does, turns the
 * request into a payload-format 2.0 event (once `ready` has resolved), calls the function's handler and writes its result. Answers
 * that API Gateway itself would give (no route, payload too large, function crashed) look like its own.
 */
export function createLocalServer(
  routes: readonly Route[],
  options: { loadHandler?: HandlerLoader; ready?: Promise<void> } = {},
): Server {
  const { loadHandler = importHandler, ready = Promise.resolve() } = options;
  const matchRoute = routeMatcher(routes);
  const handlers = new Map<FunctionName, Promise<HttpHandler>>();
  const handlerFor = (name: FunctionName) => {
    let handler = handlers.get(name);
    if (!handler) {
      handler = loadHandler(name);
      handlers.set(name, handler);
    }
    return handler;
  };

  return createServer(async (request, response) => {
    await ready;
    const url = new URL(request.url ?? '/', 'http://local');
    const matched = matchRoute(request.method ?? 'GET', url.pathname);
    if (!matched) {
      writeResult(response, gatewayError(404, 'Not Found'));
      request.resume();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request, apiGatewayMaxBodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLarge) {
        writeResult(response, gatewayError(413, 'Request Entity Too Large'));
        request.destroy();
        return;
      }
      // The client went away mid-body: nobody to answer (thrown here, it would end the process).
      request.destroy();
      return;
    }
    try {
      const functionName = matched.route.function;
      const event = toApiGatewayEvent(request, body, matched, { url });
      const result = await invocation.run({ functionName }, async () =>
        (await handlerFor(functionName))(event),
      );
      writeResult(response, result);
    } catch (error) {
      logger.error('function failed', { function: matched.route.function, error: String(error) });
      writeResult(response, gatewayError(500, 'Internal Server Error'));
    }
  });
}

function gatewayError(statusCode: number, message: string) {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) };
}

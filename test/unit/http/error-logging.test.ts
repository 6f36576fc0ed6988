import { afterEach, describe, expect, it, vi } from 'vitest';
import { apiHandler } from '../../../shared/http/api-handler.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { bareApiEvent, loggedLines } from '../../support/logged-lines.js';
import { logger } from '../../../shared/logger.js';

const bare = bareApiEvent('POST /accounts');
const event = bare.event as unknown as HttpEvent;
const { edge } = bare;

const idNumber = '11010519491231002X';

/**
 * What the AWS SDK throws for a conditional write refused with `ReturnValuesOnConditionCheckFailure`: the
 * item it found, as an enumerable property (the login throttle asks for it).
 */
function conditionFailed(): Error {
  const cause = Object.assign(new Error('socket hang up'), { request: { body: `{"id":"${idNumber}"}` } });
  return Object.assign(new Error('The conditional request failed', { cause }), {
    name: 'ConditionalCheckFailedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, requestId: 'R1', attempts: 1, extendedRequestId: 'x' },
    Item: { pk: { S: 'account#1' }, idNumber: { S: idNumber }, name: { S: '张三' } },
  });
}

describe('an error reaching the logs carries none of the data it held (privacy review R9, L6)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs the name, message, coded fields and cause of an unexpected error, not its properties', async () => {
    const handler = apiHandler(() => Promise.reject(conditionFailed()), edge);
    let status = 0;
    const lines = await loggedLines(async () => {
      status = (await handler(event)).statusCode ?? 0;
    });
    expect(status).toBe(500);
    const failed = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'request failed');
    expect(failed).toHaveLength(1);
    const text = JSON.stringify(failed[0]);
    expect(text).not.toContain(idNumber);
    expect(text).not.toContain('张三');
    expect(failed[0]!.error).toMatchObject({
      name: 'ConditionalCheckFailedException',
      message: 'The conditional request failed',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, requestId: 'R1', attempts: 1 },
      cause: { name: 'Error', message: 'socket hang up' },
    });
    expect(failed[0]!.error).not.toHaveProperty('Item');
  });
});

describe('a failed request can be found from the id its answer carries (operator review M2)', () => {
  afterEach(() => vi.restoreAllMocks());

  /** What Lambda's runtime passes a handler as its second argument. */
  const lambdaContext = {
    functionName: 'elicence-oidc',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws-cn:lambda:cn-north-1:123456789012:function:elicence-oidc',
    memoryLimitInMB: '1024',
    awsRequestId: 'lambda-req-7',
    logGroupName: '/aws/lambda/elicence-oidc',
    logStreamName: 'stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 5_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };

  it('names the gateway request, the route and the Lambda invocation on the failure line, and not after', async () => {
    const handler = apiHandler(() => Promise.reject(new Error('boom')), edge);
    const lines = await loggedLines(async () => {
      const answer = await handler(event, lambdaContext);
      expect(JSON.parse(answer.body ?? '{}')).toMatchObject({ requestId: 'req-1' });
      logger.info('between requests');
    });
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.find((line) => line.message === 'request failed')).toMatchObject({
      requestId: 'req-1',
      route: 'POST /accounts',
      function_request_id: 'lambda-req-7',
      function_name: 'elicence-oidc',
    });
    expect(parsed.find((line) => line.message === 'between requests')).not.toHaveProperty('requestId');
  });
});

describe('a dependency that did not answer in time is a 503 to retry, not a fault (operator review M4)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('answers 503 temporarily_unavailable with Retry-After and logs why', async () => {
    const timedOut = Object.assign(
      new Error('a request has exceeded the configured 1000 ms requestTimeout'),
      {
        name: 'TimeoutError',
      },
    );
    const handler = apiHandler(() => Promise.reject(timedOut), edge);
    let answer: Awaited<ReturnType<typeof handler>> | undefined;
    const lines = await loggedLines(async () => {
      answer = await handler(event);
    });
    expect(answer?.statusCode).toBe(503);
    expect(answer?.headers?.['retry-after']).toBe('1');
    expect(JSON.parse(answer?.body ?? '{}')).toMatchObject({ code: 'temporarily_unavailable' });
    expect(lines.some((line) => line.includes('dependency did not answer in time'))).toBe(true);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { kmsThrottlingFilterPattern } from '../../../infra/constructs/service-function.js';
import { apiHandler } from '../../../shared/http/api-handler.js';
import type { HttpEvent } from '../../../shared/http/types.js';
import { bareApiEvent, filterPatternMatches as matches, loggedLines } from '../../support/logged-lines.js';
import { logger } from '../../../shared/logger.js';

const bare = bareApiEvent('POST /verify');
const event = bare.event as unknown as HttpEvent;
const { edge } = bare;

/** What the AWS SDK throws for a call throttled beyond its retries. */
function throttled(): Error {
  return Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
}

describe('the KMS-throttling metric filter counts what the functions log (infrastructure review 24)', () => {
  const pattern = kmsThrottlingFilterPattern.logPatternString;
  afterEach(() => vi.restoreAllMocks());

  it('matches the line the API handler logs for a call throttled beyond the SDK retries', async () => {
    const handler = apiHandler(() => Promise.reject(throttled()), edge);
    let status = 0;
    const lines = await loggedLines(async () => {
      status = (await handler(event)).statusCode ?? 0;
    });
    expect(status).toBe(503);
    const throttledLines = lines.filter((line) => line.includes('dependency throttled the request'));
    expect(throttledLines).toHaveLength(1);
    expect(JSON.parse(throttledLines[0]!)).toMatchObject({ error: { name: 'ThrottlingException' } });
    expect(matches(pattern, throttledLines[0]!)).toBe(true);
  });

  it('matches the string shape of the best-effort writes, `error: String(error)`', async () => {
    const lines = await loggedLines(async () => {
      logger.error('audit entry not written', { licenceId: 'l-1', error: String(throttled()) });
    });
    expect(lines).toHaveLength(1);
    expect(matches(pattern, lines[0]!)).toBe(true);
  });

  it('counts nothing else: other failures, other fields, a name inside a message', async () => {
    const other = Object.assign(new Error('ThrottlingException mentioned'), {
      name: 'AccessDeniedException',
    });
    const lines = await loggedLines(async () => {
      await apiHandler(() => Promise.reject(other), edge)(event);
      logger.warn('peer status list not fetched', { error: String(other) });
      logger.info('request refused', { code: 'ThrottlingException' });
    });
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(matches(pattern, line), line).toBe(false);
  });

  it('evaluates the pattern as CloudWatch writes it (the evaluator is not vacuous)', () => {
    expect(pattern).toBe('{ ($.error.name = "ThrottlingException") || ($.error = "ThrottlingException*") }');
    expect(matches(pattern, '{"error":{"name":"ThrottlingException"}}')).toBe(true);
    expect(matches(pattern, '{"error":"ThrottlingException"}')).toBe(true);
    expect(matches(pattern, '{"error":{"name":"ThrottlingExceptionX"}}')).toBe(false);
    expect(matches(pattern, '{"error":"xThrottlingException"}')).toBe(false);
    expect(() => matches('{ $.a > 1 }', '{}')).toThrow(/subset/);
  });
});

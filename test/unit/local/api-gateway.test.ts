import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { routes } from '../../../functions/routes.js';
import { toApiGatewayEvent } from '../../../infra/local/api-gateway.js';
import { routeMatcher } from '../../../infra/local/route-matcher.js';

/** A POST to /console/login as Node's server hands it over. */
function request(contentType: string | undefined): IncomingMessage {
  return {
    url: '/console/login',
    method: 'POST',
    httpVersion: '1.1',
    headersDistinct: contentType ? { 'content-type': [contentType] } : {},
    socket: { remoteAddress: '127.0.0.1', localPort: 3000 },
  } as unknown as IncomingMessage;
}

describe('the local API Gateway event (HTTP API, payload 2.0)', () => {
  const matched = routeMatcher(routes)('POST', '/console/login')!;

  it('base64-encodes a form’s body as AWS does (isBase64Encoded: true), so the functions decode it', () => {
    // Measured against real HTTP APIs: only text/*, JSON, XML and JavaScript arrive as strings.
    const body = Buffer.from('reason=%E8%AE%B0&clientId=a+b');
    for (const contentType of [
      'application/x-www-form-urlencoded',
      'application/x-www-form-urlencoded; charset=UTF-8',
    ]) {
      const event = toApiGatewayEvent(request(contentType), body, matched);
      expect(event.isBase64Encoded, contentType).toBe(true);
      expect(Buffer.from(event.body!, 'base64')).toEqual(body);
    }
    expect(toApiGatewayEvent(request(undefined), body, matched).isBase64Encoded).toBe(true);
  });

  it('passes a UTF-8 JSON or text body as a string, and one that is not UTF-8 in base64', () => {
    const json = toApiGatewayEvent(request('application/json'), Buffer.from('{"a":"李"}'), matched);
    expect([json.isBase64Encoded, json.body]).toEqual([false, '{"a":"李"}']);
    const gbk = toApiGatewayEvent(request('text/plain'), Buffer.from('C0EE', 'hex'), matched);
    expect([gbk.isBase64Encoded, gbk.body]).toEqual([true, 'wO4=']);
  });
});

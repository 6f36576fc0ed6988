import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { startFakeHttpServer, type FakeHttpServer } from '../../support/fake-http-server.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * The confirmed-phone oracle (security review of the SMS providers): a phone the carrier does not confirm
 * for the person gets no code and the usual notice; a confirmed one reaches the SMS provider. When the
 * provider refuses, the answer must still be the same, or its status would tell which phones are
 * confirmed. Over real HTTP, the runtime's senders use the real SNS client (`SMS_SENDER=sns`) against a
 * fake of the SNS Query protocol that refuses every `Publish`.
 */
let runtime: TestRuntime;
let sns: FakeHttpServer;

function refused(_: unknown, res: ServerResponse): void {
  res
    .writeHead(400, { 'content-type': 'text/xml' })
    .end(
      '<ErrorResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>req-refused</RequestId></ErrorResponse>',
    );
}

beforeAll(async () => {
  sns = await startFakeHttpServer();
  sns.answer(refused);
  runtime = await startTestRuntime(undefined, { SMS_SENDER: 'sns', AWS_ENDPOINT_URL_SNS: sns.url('/') });
});
afterAll(async () => {
  await runtime?.close();
  await sns?.close();
});

const postForm = (fields: Record<string, string>) =>
  fetch(`${runtime.baseUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ consent: 'yes', ...fields }),
  });

/** The answer with what differs by request alone (the typed phone, a response's nonce) made equal. */
async function shapeOf(response: Response, phone: string) {
  const body = (await response.text())
    .replaceAll(phone, '<phone>')
    .replace(/nonce-[A-Za-z0-9+/=_-]+/g, 'nonce')
    .replace(/nonce="[^"]*"/g, 'nonce');
  const headers: string[] = [];
  response.headers.forEach((value, name) => {
    if (!['date', 'content-length', 'content-security-policy'].includes(name))
      headers.push(`${name}: ${value}`);
  });
  headers.sort();
  return { status: response.status, headers, body };
}

describe('a code the SMS provider refused', () => {
  it('is answered exactly as a phone the carrier does not confirm, on the /register page', async () => {
    const person = registryPeople[12]!;
    const othersPhone = registryPeople[13]!.phone;
    const fields = { idNumber: person.idNumber, name: person.name, send: '1' };

    const unconfirmed = await postForm({ ...fields, phone: othersPhone });
    await runtime.smsQueue?.drain();
    expect(sns.received).toHaveLength(0);
    const confirmed = await postForm({ ...fields, phone: person.phone });
    // The confirmed phone did reach the provider, after the answer, which refused it (the SDK retries a
    // throttle once).
    await runtime.smsQueue?.drain();
    expect(sns.received.length).toBeGreaterThan(0);
    expect(new URLSearchParams(sns.received[0]!.body).get('PhoneNumber')).toBe(person.phone);

    const [a, b] = [await shapeOf(unconfirmed, othersPhone), await shapeOf(confirmed, person.phone)];
    expect(b.status).toBe(200);
    expect(b).toEqual(a);
    expect(b.body).toContain('如未收到短信，请在 1 分钟后重新获取验证码');
  });

  it('stores no code: the refused code registers no one, and counts as no code at all', async () => {
    const person = registryPeople[14]!;
    const fields = { idNumber: person.idNumber, name: person.name, phone: person.phone };
    sns.received.length = 0;
    expect((await postForm({ ...fields, send: '1' })).status).toBe(200);
    await runtime.smsQueue?.drain();
    // The code the provider was asked to send (and refused) is in the refused request's text.
    const text = new URLSearchParams(sns.received[0]!.body).get('Message')!;
    const code = /(\d{6})/.exec(text)![1]!;
    const password = 'Refused-2026!';
    const typed = await postForm({ ...fields, code, password, passwordConfirm: password });
    expect(typed.status).toBe(400);
    // "Expired or not sent", not "wrong": no code was kept for it to be wrong against.
    expect(await typed.text()).toContain('已失效');
  });
});

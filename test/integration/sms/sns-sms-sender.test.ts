import { mkdtemp, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sms } from '../../../functions/composition/factories.js';
import { loadConfig } from '../../../shared/config.js';
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type ReceivedRequest,
} from '../../support/fake-http-server.js';
import { TestClock } from '../../support/in-memory-identity.js';

/*
 * The SNS adapter, through the real @aws-sdk/client-sns, against a fake of the SNS Query protocol started
 * here: a form-encoded `Action=Publish` POST answered with the XML `PublishResponse`, or an `ErrorResponse`.
 */

const namespace = 'https://sns.amazonaws.com/doc/2010-03-31/';
let sns: FakeHttpServer;

beforeAll(async () => {
  sns = await startFakeHttpServer();
});
afterAll(() => sns?.close());
beforeEach(() => {
  sns.received.length = 0;
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALTEST');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-secret');
  vi.stubEnv('AWS_SESSION_TOKEN', '');
});

function published(_: ReceivedRequest, res: ServerResponse): void {
  res
    .writeHead(200, { 'content-type': 'text/xml' })
    .end(
      `<PublishResponse xmlns="${namespace}"><PublishResult><MessageId>5e6c0b0e-0d1a-4c1b-9a2f-2b0f6a1d9e11</MessageId></PublishResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></PublishResponse>`,
    );
}

function refused(code: string, message: string, status = 400) {
  return (_: ReceivedRequest, res: ServerResponse) => {
    res
      .writeHead(status, { 'content-type': 'text/xml' })
      .end(
        `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
      );
  };
}

const sender = (env: Record<string, string> = {}) =>
  sms({
    config: loadConfig({ SMS_SENDER: 'sns', AWS_ENDPOINT_URL_SNS: sns.url('/'), ...env }),
    clock: new TestClock(),
  });

const text = '【电子证照】您的验证码是 483920，5 分钟内有效。请勿告诉他人。';

describe('SMS_SENDER=sns: the SNS adapter', () => {
  it('publishes straight to the phone number, transactional, with the sender id, signed as the SDK signs', async () => {
    sns.answer(published);
    await sender({ SMS_SENDER_ID: 'ELICENCE' }).send({ to: '+8613912345678', text, code: '483920' });
    expect(sns.received).toHaveLength(1);
    const [request] = sns.received;
    expect(request!.method).toBe('POST');
    expect(request!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/cn-north-1\/sns\//,
    );
    const form = Object.fromEntries(new URLSearchParams(request!.body));
    expect(form).toEqual({
      Action: 'Publish',
      Version: '2010-03-31',
      PhoneNumber: '+8613912345678',
      Message: text,
      'MessageAttributes.entry.1.Name': 'AWS.SNS.SMS.SMSType',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'Transactional',
      'MessageAttributes.entry.2.Name': 'AWS.SNS.SMS.SenderID',
      'MessageAttributes.entry.2.Value.DataType': 'String',
      'MessageAttributes.entry.2.Value.StringValue': 'ELICENCE',
    });
    // Never to a topic, and the code is not sent apart from the text.
    expect(form).not.toHaveProperty('TopicArn');
    expect(form).not.toHaveProperty('TargetArn');
    expect(request!.body.match(/483920/g)).toHaveLength(1);
  });

  it('sends no sender id when none is configured', async () => {
    sns.answer(published);
    await sender().send({ to: '+8618600002222', text });
    const form = Object.fromEntries(new URLSearchParams(sns.received[0]!.body));
    expect(form['MessageAttributes.entry.1.Value.StringValue']).toBe('Transactional');
    expect(form).not.toHaveProperty('MessageAttributes.entry.2.Name');
  });

  it('rejects when SNS refuses, so that the caller does not say the code was sent', async () => {
    sns.answer(
      refused('InvalidParameter', 'Invalid parameter: PhoneNumber Reason: +8613912345678 is not valid'),
    );
    await expect(sender().send({ to: '+8613912345678', text })).rejects.toMatchObject({
      name: 'InvalidParameterException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sns.received).toHaveLength(1);
  });

  it('retries a throttled publish once, then rejects', async () => {
    sns.answer(refused('Throttling', 'Rate exceeded'));
    await expect(sender().send({ to: '+8613912345678', text })).rejects.toMatchObject({ name: 'Throttling' });
    expect(sns.received).toHaveLength(2);
  });

  it('is not the SMS sender unless configured: the default writes the outbox file and calls no SNS', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-sms-'));
    await sms({ config: loadConfig({ DATA_DIR: dataDir }), clock: new TestClock() }).send({
      to: '+8613912345678',
      text,
    });
    expect(await readFile(join(dataDir, 'outbox', 'sms.jsonl'), 'utf8')).toContain('+8613912345678');
    expect(sns.received).toEqual([]);
  });
});

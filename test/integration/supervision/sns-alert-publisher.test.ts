import { mkdtemp, readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { alertPublisher } from '../../../functions/composition/factories.js';
import { loadConfig } from '../../../shared/config.js';
import type { Alert } from '../../../shared/supervision/alert-rules.js';
import {
  startFakeHttpServer,
  type FakeHttpServer,
  type ReceivedRequest,
} from '../../support/fake-http-server.js';
import { TestClock } from '../../support/in-memory-identity.js';

/*
 * The alert publisher's SNS adapter, through the real @aws-sdk/client-sns, against a fake of the SNS Query
 * protocol (as test/integration/sms/sns-sms-sender.test.ts does for text messages).
 */

const namespace = 'https://sns.amazonaws.com/doc/2010-03-31/';
const topicArn = 'arn:aws-cn:sns:cn-north-1:123456789012:Elicence-AlarmsTopic';
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

function refused(_: ReceivedRequest, res: ServerResponse): void {
  res
    .writeHead(403, { 'content-type': 'text/xml' })
    .end(
      `<ErrorResponse xmlns="${namespace}"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>not authorized</Message></Error><RequestId>req-2</RequestId></ErrorResponse>`,
    );
}

const alert: Alert = {
  at: '2026-03-01T09:30:00.000Z',
  rule: 'bulk-status-change',
  severity: 'high',
  subject: 'iss_3kq9x',
  detail: '20 licences revoked or suspended by this issuer within 60 min (threshold 20)',
};

const publisher = (env: Record<string, string>) =>
  alertPublisher({ config: loadConfig(env), clock: new TestClock() });

describe('ALERT_PUBLISHER=sns: the SNS alert publisher', () => {
  it('publishes each alert to the alarm topic, JSON in the body, rule and severity as attributes', async () => {
    sns.answer(published);
    await publisher({
      ALERT_PUBLISHER: 'sns',
      ALERT_TOPIC_ARN: topicArn,
      AWS_ENDPOINT_URL_SNS: sns.url('/'),
    }).publish(alert);
    expect(sns.received).toHaveLength(1);
    const [request] = sns.received;
    expect(request!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/cn-north-1\/sns\//,
    );
    const form = Object.fromEntries(new URLSearchParams(request!.body));
    expect(form).toEqual({
      Action: 'Publish',
      Version: '2010-03-31',
      TopicArn: topicArn,
      Subject: 'elicence supervision alert: bulk-status-change (high)',
      Message: JSON.stringify(alert),
      'MessageAttributes.entry.1.Name': 'rule',
      'MessageAttributes.entry.1.Value.DataType': 'String',
      'MessageAttributes.entry.1.Value.StringValue': 'bulk-status-change',
      'MessageAttributes.entry.2.Name': 'severity',
      'MessageAttributes.entry.2.Value.DataType': 'String',
      'MessageAttributes.entry.2.Value.StringValue': 'high',
    });
    // A topic, never a phone number.
    expect(form).not.toHaveProperty('PhoneNumber');
  });

  it('rejects when SNS refuses, so that the stream batch is retried', async () => {
    sns.answer(refused);
    await expect(
      publisher({
        ALERT_PUBLISHER: 'sns',
        ALERT_TOPIC_ARN: topicArn,
        AWS_ENDPOINT_URL_SNS: sns.url('/'),
      }).publish(alert),
    ).rejects.toMatchObject({ name: 'AuthorizationErrorException' });
  });

  it('is not the publisher unless configured: the default appends to the outbox file and calls no SNS', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'elicence-alerts-'));
    await publisher({ DATA_DIR: dataDir }).publish(alert);
    await publisher({ DATA_DIR: dataDir }).publish({ ...alert, subject: 'iss_other' });
    const lines = (await readFile(join(dataDir, 'outbox', 'alerts.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((line) => JSON.parse(line) as Alert)).toEqual([
      alert,
      { ...alert, subject: 'iss_other' },
    ]);
    expect(sns.received).toEqual([]);
  });
});

import dns from 'node:dns';
import { createRequire } from 'node:module';
import type SignModule from 'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js';
import type { ServerResponse } from 'node:http';
import { sms as tencentCloudSms } from 'tencentcloud-sdk-nodejs-sms';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { sms } from '../../../functions/composition/factories.js';
import {
  TencentSmsSender,
  type TencentCredentialSource,
} from '../../../shared/adapters/tencent/sms-sender.js';
import { loadConfig } from '../../../shared/config.js';
import { DependencyError } from '../../../shared/errors.js';
import { smsCodeMessage } from '../../../shared/identity/sms-codes.js';
import {
  previousPhoneNoticeMessage,
  securityNoticeMessage,
} from '../../../shared/identity/security-notices.js';
import {
  jsonAnswer,
  startFakeHttpServer,
  type FakeHttpServer,
  type ReceivedRequest,
} from '../../support/fake-http-server.js';
import { TestClock } from '../../support/in-memory-identity.js';
import { loggedLines } from '../../support/logged-lines.js';

/*
 * The Tencent Cloud SMS adapter against a fake of the API 3.0 endpoint started here, and against the
 * official SDK (tencentcloud-sdk-nodejs-sms, a devDependency only): both send the same SendSms to the same
 * fake, and their requests must be signed alike. Behind the fake's port, the real host name
 * sms.tencentcloudapi.com (resolved to the loopback interface in this file alone), so that both sign the
 * host Tencent checks. The key pair comes from a fake of Secrets Manager, through the real AWS SDK client.
 */

/** Tencent's own TC3 signing function (the module is CommonJS: its default export, as Node gives it). */
const { default: Sign } = createRequire(import.meta.url)(
  'tencentcloud-sdk-nodejs-common/tencentcloud/common/sign.js',
) as typeof SignModule;

const host = 'sms.tencentcloudapi.com';
const credentials = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
};
const settings = { sdkAppId: '1400006666', signName: '电子证照', templateId: '1110', region: 'ap-guangzhou' };
const phone = '+8613912345678';
const code = '483920';

let tencent: FakeHttpServer;
const realLookup = dns.lookup;

beforeAll(async () => {
  tencent = await startFakeHttpServer();
  // sms.tencentcloudapi.com is the fake, for every client of this file (the SDK's node-fetch, our fetch).
  vi.spyOn(dns, 'lookup').mockImplementation(((
    hostname: string,
    options: unknown,
    callback?: (...args: unknown[]) => void,
  ) => {
    const done = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
    if (hostname !== host) return (realLookup as (...args: unknown[]) => void)(hostname, options, callback);
    return all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4);
  }) as typeof dns.lookup);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await tencent?.close();
});
beforeEach(() => {
  tencent.received.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

const port = () => new URL(tencent.url()).port;

/** Tencent's answer to a SendSms with one number: that number's status. */
function sendStatus(statusCode: string, message = 'send success') {
  return jsonAnswer(200, {
    Response: {
      SendStatusSet: [
        {
          SerialNo: '5000:1045710669157053657849499619',
          PhoneNumber: phone,
          Fee: 1,
          SessionContext: '',
          Code: statusCode,
          Message: message,
          IsoCode: 'CN',
        },
      ],
      RequestId: 'a0aabda6-cf91-4f3e-a81f-9198114a2279',
    },
  });
}

/** Tencent's answer to a request it refused whole. */
function refusal(errorCode: string, message: string) {
  return jsonAnswer(200, {
    Response: {
      Error: { Code: errorCode, Message: message },
      RequestId: 'b1bbceb7-1111-4f3e-a81f-9198114a2279',
    },
  });
}

/** A credential source counting its reads and forgettings. */
function countingCredentials(pair = credentials) {
  const source = {
    reads: 0,
    forgotten: 0,
    get: async () => {
      source.reads++;
      return pair;
    },
    forget: () => {
      source.forgotten++;
    },
  } satisfies TencentCredentialSource & { reads: number; forgotten: number };
  return source;
}

function adapter(
  options: {
    clock?: TestClock;
    timeoutMs?: number;
    source?: TencentCredentialSource;
    endpoint?: string;
    noticeTemplateId?: string;
    previousPhoneNoticeTemplateId?: string;
  } = {},
) {
  return new TencentSmsSender(
    {
      endpoint: options.endpoint ?? `http://${host}:${port()}`,
      region: settings.region,
      sdkAppId: settings.sdkAppId,
      signName: settings.signName,
      templateIds: {
        'one-time-code': settings.templateId,
        ...(options.noticeTemplateId !== undefined && { 'security-notice': options.noticeTemplateId }),
        ...(options.previousPhoneNoticeTemplateId !== undefined && {
          'previous-phone-notice': options.previousPhoneNoticeTemplateId,
        }),
      },
      timeoutMs: options.timeoutMs ?? 3_000,
    },
    options.source ?? countingCredentials(),
    options.clock ?? new TestClock(),
  );
}

/** The SendSms of a code as one writes it with the official SDK (what the adapter must send alike). */
const officialRequest = {
  PhoneNumberSet: [phone],
  SmsSdkAppId: settings.sdkAppId,
  SignName: settings.signName,
  TemplateId: settings.templateId,
  TemplateParamSet: [code, '登录验证', '5'],
};

function officialClient() {
  return new tencentCloudSms.v20210111.Client({
    credential: credentials,
    region: settings.region,
    profile: { httpProfile: { endpoint: `${host}:${port()}`, protocol: 'http://' } },
  });
}

/** The request as Tencent's SDK (tencentcloud-sdk-nodejs-common `Sign.sign3`) signs it, from what arrived. */
function sdkSignatureOf(request: ReceivedRequest, pair = credentials): string {
  return Sign.sign3({
    method: 'POST',
    url: `http://${String(request.headers.host)}/`,
    payload: JSON.parse(request.body) as unknown,
    timestamp: Number(request.headers['x-tc-timestamp']),
    service: 'sms',
    secretId: pair.secretId,
    secretKey: pair.secretKey,
    multipart: false,
    boundary: '',
    headers: { 'Content-Type': String(request.headers['content-type']) },
  });
}

describe('SMS_SENDER=tencent: the Tencent Cloud SMS adapter', () => {
  // Just before midnight UTC (already the next day in Beijing): the credential's scope is the UTC day.
  it.each(['2026-12-06T23:59:58Z', '2027-01-01T08:00:00Z'])(
    'sends the SendSms the official SDK sends, signed identically (at %s)',
    async (instant) => {
      tencent.answer(sendStatus('Ok'));
      vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(instant) });
      await officialClient().SendSms(officialRequest);
      const clock = new TestClock(Date.parse(instant));
      await adapter({ clock }).send(smsCodeMessage(phone, code, 'step-up'));
      expect(tencent.received).toHaveLength(2);
      const [official, ours] = tencent.received as [ReceivedRequest, ReceivedRequest];

      expect(ours.headers.authorization).toBe(official.headers.authorization);
      expect(ours.headers.authorization).toMatch(
        new RegExp(
          `^TC3-HMAC-SHA256 Credential=${credentials.secretId}/${instant.slice(0, 10)}/sms/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$`,
        ),
      );
      expect(ours.body).toBe(official.body);
      expect(JSON.parse(ours.body)).toEqual({
        PhoneNumberSet: [phone],
        SmsSdkAppId: '1400006666',
        SignName: '电子证照',
        TemplateId: '1110',
        TemplateParamSet: [code, '登录验证', '5'],
      });
      for (const header of [
        'host',
        'content-type',
        'x-tc-action',
        'x-tc-version',
        'x-tc-region',
        'x-tc-timestamp',
      ]) {
        expect(ours.headers[header], header).toBe(official.headers[header]);
      }
      expect(ours).toMatchObject({ method: 'POST', url: '/' });
      expect(ours.headers).toMatchObject({
        'x-tc-action': 'SendSms',
        'x-tc-version': '2021-01-11',
        'x-tc-region': 'ap-guangzhou',
      });
      expect(ours.headers['x-tc-timestamp']).toBe(String(Date.parse(instant) / 1000));
      // And Tencent's own signing function, as a server checks a request, accepts both.
      expect(sdkSignatureOf(ours)).toBe(ours.headers.authorization);
      expect(sdkSignatureOf(official)).toBe(official.headers.authorization);
      expect(sdkSignatureOf(ours, { ...credentials, secretKey: 'another key' })).not.toBe(
        ours.headers.authorization,
      );
      // The text is never sent (the template is), nor the secret key.
      expect(ours.body).not.toContain('请勿告诉他人');
      expect(JSON.stringify(ours)).not.toContain(credentials.secretKey);
    },
  );

  it('signs for a changed body or second differently, as Tencent would then refuse', async () => {
    tencent.answer(sendStatus('Ok'));
    const clock = new TestClock(Date.parse('2026-12-06T02:00:00Z'));
    await adapter({ clock }).send(smsCodeMessage(phone, code, 'step-up'));
    await adapter({ clock }).send(smsCodeMessage(phone, '000000', 'step-up'));
    clock.advanceSeconds(1);
    await adapter({ clock }).send(smsCodeMessage(phone, code, 'step-up'));
    const signatures = tencent.received.map((request) => request.headers.authorization);
    expect(new Set(signatures).size).toBe(3);
    for (const request of tencent.received)
      expect(sdkSignatureOf(request)).toBe(request.headers.authorization);
  });

  it('resolves when Tencent answers Ok for the number', async () => {
    tencent.answer(sendStatus('Ok'));
    await expect(adapter().send(smsCodeMessage(phone, code, 'step-up'))).resolves.toBeUndefined();
  });

  it('rejects sms_not_sent when Tencent refuses the number (daily limit), logging the reason and nothing personal', async () => {
    tencent.answer(
      sendStatus('LimitExceeded.PhoneNumberDailyLimit', `${phone} 单个手机号日下发短信条数超过设定的上限`),
    );
    // The official SDK resolves here (the request was accepted): the refusal is per number.
    await expect(officialClient().SendSms(officialRequest)).resolves.toMatchObject({
      SendStatusSet: [{ Code: 'LimitExceeded.PhoneNumberDailyLimit' }],
    });
    let failure: unknown;
    const lines = await loggedLines(() =>
      adapter()
        .send(smsCodeMessage(phone, code, 'step-up'))
        .catch((error: unknown) => {
          failure = error;
        }),
    );
    expect(failure).toBeInstanceOf(DependencyError);
    expect(failure).toMatchObject({
      code: 'sms_not_sent',
      message: expect.stringContaining('LimitExceeded.PhoneNumberDailyLimit'),
    });
    const logged = lines.join('\n');
    expect(logged).toContain('LimitExceeded.PhoneNumberDailyLimit');
    expect(logged).toContain('a0aabda6-cf91-4f3e-a81f-9198114a2279');
    for (const secret of [phone, '13912345678', code, credentials.secretKey])
      expect(logged).not.toContain(secret);
    expect(String((failure as Error).message)).not.toContain('13912345678');
  });

  it('rejects sms_not_sent when Tencent refuses the request (Response.Error), as the official SDK does', async () => {
    tencent.answer(refusal('FailedOperation.TemplateIncorrectOrUnapproved', '模板未审批或内容不匹配'));
    await expect(officialClient().SendSms(officialRequest)).rejects.toMatchObject({
      code: 'FailedOperation.TemplateIncorrectOrUnapproved',
    });
    const source = countingCredentials();
    await expect(adapter({ source }).send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      name: 'DependencyError',
      code: 'sms_not_sent',
      message: expect.stringContaining('FailedOperation.TemplateIncorrectOrUnapproved'),
    });
    // Not a key problem: the key pair is kept.
    expect(source.forgotten).toBe(0);
  });

  it('drops the kept key pair when Tencent refuses it, so that a replaced key is read again', async () => {
    tencent.answer(refusal('AuthFailure.SecretIdNotFound', 'The SecretId is not found'));
    const source = countingCredentials();
    await expect(adapter({ source }).send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
    expect(source.forgotten).toBe(1);
  });

  it('rejects sms_not_sent on an HTTP error or an answer that is not Tencent’s', async () => {
    tencent.answer(jsonAnswer(502, { message: 'bad gateway' }));
    await expect(adapter().send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      code: 'sms_not_sent',
      message: expect.stringContaining('HTTP 502'),
    });
    tencent.answer((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>portal</html>');
    });
    await expect(adapter().send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
  });

  it('gives up on a server that never answers after its time limit, with a TimeoutError (503, retry)', async () => {
    tencent.answer(() => undefined);
    const started = Date.now();
    await expect(
      adapter({ timeoutMs: 300 }).send(smsCodeMessage(phone, code, 'step-up')),
    ).rejects.toMatchObject({
      name: 'TimeoutError',
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(tencent.received).toHaveLength(1);
  });

  it('rejects sms_not_sent when the provider cannot be reached', async () => {
    await expect(
      adapter({ endpoint: 'http://127.0.0.1:9' }).send(smsCodeMessage(phone, code, 'step-up')),
    ).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
  });

  it('refuses a message without an approved template, sending nothing', async () => {
    const source = countingCredentials();
    await expect(
      adapter({ source }).send({ to: phone, text: '【电子证照】您的账户已冻结' }),
    ).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
    expect(tencent.received).toEqual([]);
    expect(source.reads).toBe(0);
  });

  it('sends a security notice as its own approved template: the time and the event, no number in them', async () => {
    tencent.answer(sendStatus('Ok'));
    await adapter({ noticeTemplateId: '2101235' }).send(
      securityNoticeMessage(phone, 'passkey.enrolled', '2026-12-07T09:05:00Z'),
    );
    expect(JSON.parse(tencent.received[0]!.body)).toEqual({
      PhoneNumberSet: [phone],
      SmsSdkAppId: settings.sdkAppId,
      SignName: settings.signName,
      TemplateId: '2101235',
      TemplateParamSet: ['2026-12-07 17:05', '添加了通行密钥'],
    });
  });

  it('sends the previous phone’s notice as its own approved template: the time alone, never the new number', async () => {
    tencent.answer(sendStatus('Ok'));
    await adapter({ noticeTemplateId: '2101235', previousPhoneNoticeTemplateId: '2101236' }).send(
      previousPhoneNoticeMessage(phone, '2026-12-07T09:05:00Z'),
    );
    expect(JSON.parse(tencent.received[0]!.body)).toMatchObject({
      TemplateId: '2101236',
      TemplateParamSet: ['2026-12-07 17:05'],
    });
    // Approved apart: the security notices' template alone does not send it.
    await expect(
      adapter({ noticeTemplateId: '2101235' }).send(
        previousPhoneNoticeMessage(phone, '2026-12-07T09:05:00Z'),
      ),
    ).rejects.toMatchObject({ code: 'sms_template_missing' });
  });

  it('refuses a security notice before its template is approved (no id), its own code, sending nothing', async () => {
    const source = countingCredentials();
    await expect(
      adapter({ source }).send(securityNoticeMessage(phone, 'passkey.removed', '2026-12-07T09:05:00Z')),
    ).rejects.toMatchObject({ code: 'sms_template_missing' });
    expect(tencent.received).toEqual([]);
    expect(source.reads).toBe(0);
  });
});

describe('SMS_SENDER=tencent: composed from the configuration, the key pair from Secrets Manager', () => {
  let secrets: FakeHttpServer;
  let secretString = JSON.stringify(credentials);
  const secretArn = 'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:elicence/tencent-sms-AbCdEf';

  beforeAll(async () => {
    secrets = await startFakeHttpServer();
  });
  afterAll(() => secrets?.close());
  beforeEach(() => {
    secrets.received.length = 0;
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDLOCALTEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local-secret');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    // The Secrets Manager JSON protocol: POST / with X-Amz-Target secretsmanager.GetSecretValue.
    secrets.answer((request: ReceivedRequest, res: ServerResponse) => {
      const asked = JSON.parse(request.body) as { SecretId?: string };
      if (
        request.headers['x-amz-target'] !== 'secretsmanager.GetSecretValue' ||
        asked.SecretId !== secretArn
      ) {
        res
          .writeHead(400, { 'content-type': 'application/x-amz-json-1.1' })
          .end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' }).end(
        JSON.stringify({
          ARN: secretArn,
          Name: 'elicence/tencent-sms',
          SecretString: secretString,
          VersionId: 'v1',
          CreatedDate: 1_765_000_000,
        }),
      );
    });
  });

  const composed = () =>
    sms({
      config: loadConfig({
        SMS_SENDER: 'tencent',
        TENCENT_SMS_SDK_APP_ID: settings.sdkAppId,
        TENCENT_SMS_SIGN_NAME: settings.signName,
        TENCENT_SMS_TEMPLATE_ID: settings.templateId,
        TENCENT_SMS_ENDPOINT: tencent.url('/'),
        TENCENT_SMS_SECRET_ARN: secretArn,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url('/'),
      }),
      clock: new TestClock(),
    });

  it('reads the secret once per container, and signs with the pair it holds', async () => {
    secretString = JSON.stringify(credentials);
    tencent.answer(sendStatus('Ok'));
    const sender = composed();
    await Promise.all([
      sender.send(smsCodeMessage(phone, code, 'step-up')),
      sender.send(smsCodeMessage(phone, '111111', 'step-up')),
    ]);
    await sender.send(smsCodeMessage(phone, '222222', 'step-up'));
    expect(secrets.received).toHaveLength(1);
    expect(secrets.received[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDLOCALTEST\/\d{8}\/cn-north-1\/secretsmanager\//,
    );
    expect(tencent.received).toHaveLength(3);
    for (const request of tencent.received) {
      expect(request.headers.authorization).toContain(`Credential=${credentials.secretId}/`);
      expect(sdkSignatureOf(request)).toBe(request.headers.authorization);
    }
  });

  it('sends nothing while the secret holds no key pair (the stack’s placeholder), and reads it again on the next send', async () => {
    secretString = 'r4nd0m-placeholder-the-stack-generated';
    tencent.answer(sendStatus('Ok'));
    const sender = composed();
    await expect(sender.send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
    expect(tencent.received).toEqual([]);
    // The operator puts the pair: the same container uses it without a restart.
    secretString = JSON.stringify(credentials);
    await sender.send(smsCodeMessage(phone, code, 'step-up'));
    expect(secrets.received).toHaveLength(2);
    expect(tencent.received).toHaveLength(1);
  });

  it('reads a replaced key pair after Tencent refused the kept one', async () => {
    secretString = JSON.stringify({ ...credentials, secretKey: 'the old key' });
    const sender = composed();
    tencent.answer((request, res) => {
      const valid = sdkSignatureOf(request) === request.headers.authorization;
      (valid
        ? sendStatus('Ok')
        : refusal('AuthFailure.SignatureFailure', 'The provided credentials could not be validated'))(
        request,
        res,
      );
    });
    await expect(sender.send(smsCodeMessage(phone, code, 'step-up'))).rejects.toMatchObject({
      code: 'sms_not_sent',
    });
    secretString = JSON.stringify(credentials);
    await sender.send(smsCodeMessage(phone, code, 'step-up'));
    expect(secrets.received).toHaveLength(2);
  });
});

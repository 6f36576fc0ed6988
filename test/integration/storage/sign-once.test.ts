import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { documentClientFor } from '../../../shared/adapters/dynamo/client.js';
import { resolveOncePerCommand, signOncePerClient } from '../../../shared/adapters/resolve-once.js';

/**
 * The project's SDK clients build their SigV4 request signer once per client, not per request
 * (`signOncePerClient` in `shared/adapters/resolve-once.ts`, issue 16). Requests must still carry a
 * signature AWS would accept (recomputed here from the SigV4 specification with node:crypto), with the
 * keys the credentials provider gives at that moment, each client its own.
 */
const region = 'cn-north-1';
const instant = '2026-03-01T12:00:00.000Z';

/** A request handler that records each request as it would leave, and answers `body` at once. */
function recorder(body: string) {
  const sent: HttpRequest[] = [];
  const handler = {
    handle: async (request: HttpRequest) => {
      sent.push(request);
      return {
        response: {
          statusCode: 200,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: Readable.from([Buffer.from(body)]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  return { sent, handler };
}

/** Counts the signers a client builds (the SDK's `signerConstructor` setting, its default class). */
function countingSigner() {
  const built = { count: 0 };
  class Counted extends SignatureV4 {
    constructor(options: ConstructorParameters<typeof SignatureV4>[0]) {
      super(options);
      built.count++;
    }
  }
  return { built, Counted };
}

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();

/**
 * Recomputes the request's SigV4 signature from its method, path, signed headers and body with `secret`
 * (AWS's "Create a signed AWS API request" steps) and answers the credential scope and both signatures.
 */
function checkSignature(request: HttpRequest, secret: string) {
  const authorization = request.headers.authorization ?? '';
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(.+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) throw new Error(`not a SigV4 authorization: ${authorization}`);
  const [, accessKeyId, scope, signedHeaders, signature] = match as unknown as string[];
  const lowered = Object.fromEntries(
    Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const canonicalHeaders = signedHeaders!
    .split(';')
    .map((name) => `${name}:${String(lowered[name]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    request.path,
    '',
    canonicalHeaders,
    signedHeaders,
    sha256(request.body as string | Uint8Array),
  ].join('\n');
  const amzDate = lowered['x-amz-date']!;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonicalRequest)].join('\n');
  const [day, scopeRegion, service, terminator] = scope!.split('/') as [string, string, string, string];
  let key = hmac(`AWS4${secret}`, day);
  for (const part of [scopeRegion, service, terminator]) key = hmac(key, part);
  return {
    accessKeyId,
    scope,
    amzDate,
    signature,
    expected: createHmac('sha256', key).update(stringToSign).digest('hex'),
  };
}

function dynamoDocument(options: Partial<DynamoDBClientConfig>, body = '{"Item":{"pk":{"S":"a"}}}') {
  const { sent, handler } = recorder(body);
  const low = new DynamoDBClient({
    region,
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'AKIDDYNAMO', secretAccessKey: 'dynamo-secret' },
    requestHandler: handler,
    ...options,
  });
  return { doc: documentClientFor(low), low, sent };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('requests signed by a signer built once per client', () => {
  it('carry a valid SigV4 signature, at the request’s own time, call after call', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(instant) });
    const { doc, sent } = dynamoDocument({});
    const answers = [];
    for (let call = 0; call < 3; call++) {
      answers.push(await doc.send(new GetCommand({ TableName: 't', Key: { pk: `a${call}` } })));
      vi.setSystemTime(Date.parse(instant) + (call + 1) * 90_000);
    }

    expect(answers.map((answer) => answer.Item)).toEqual([{ pk: 'a' }, { pk: 'a' }, { pk: 'a' }]);
    const checked = sent.map((request) => checkSignature(request, 'dynamo-secret'));
    expect(checked.map((check) => check.amzDate)).toEqual([
      '20260301T120000Z',
      '20260301T120130Z',
      '20260301T120300Z',
    ]);
    for (const check of checked) {
      expect(check.accessKeyId).toBe('AKIDDYNAMO');
      expect(check.scope).toBe(`20260301/${region}/dynamodb/aws4_request`);
      expect(check.signature).toBe(check.expected);
    }
    // Each request signs its own body: the bodies differ, and so do the signatures.
    expect(new Set(checked.map((check) => check.signature)).size).toBe(3);
    doc.destroy();
  });

  it('are signed by one signer for the client’s life, not one per request', async () => {
    const { built, Counted } = countingSigner();
    const { doc, sent } = dynamoDocument({ signerConstructor: Counted });
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'first' } }));
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        doc.send(new GetCommand({ TableName: 't', Key: { pk: `k${i}` } })),
      ),
    );

    expect(sent).toHaveLength(21);
    expect(built.count).toBe(1);
    for (const request of sent) {
      const check = checkSignature(request, 'dynamo-secret');
      expect(check.signature).toBe(check.expected);
    }
    doc.destroy();
  });

  it('carry the new keys once the credentials provider rotates them', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(instant) });
    let issued = 0;
    const keys = async () => {
      issued++;
      // Keys valid ten minutes, as an assumed role's are (the SDK refreshes five minutes before expiry).
      return {
        accessKeyId: `AKIDROTATED${issued}`,
        secretAccessKey: `secret-${issued}`,
        sessionToken: `token-${issued}`,
        expiration: new Date(Date.now() + 10 * 60_000),
      };
    };
    const { built, Counted } = countingSigner();
    const { doc, sent } = dynamoDocument({ credentials: keys, signerConstructor: Counted });

    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'before' } }));
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'before-again' } }));
    vi.setSystemTime(Date.parse(instant) + 6 * 60_000);
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'after' } }));

    const checked = sent.map((request, i) => ({
      token: request.headers['x-amz-security-token'],
      ...checkSignature(request, i < 2 ? 'secret-1' : 'secret-2'),
    }));
    expect(checked.map((check) => [check.accessKeyId, check.token])).toEqual([
      ['AKIDROTATED1', 'token-1'],
      ['AKIDROTATED1', 'token-1'],
      ['AKIDROTATED2', 'token-2'],
    ]);
    for (const check of checked) expect(check.signature).toBe(check.expected);
    expect(built.count).toBe(1);
    doc.destroy();
  });

  it('signs with credentials set on the client after it was built (as a test of the Lambda client does)', async () => {
    const { doc, low, sent } = dynamoDocument({});
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'old' } }));
    low.config.credentials = async () => ({ accessKeyId: 'AKIDREPLACED', secretAccessKey: 'replaced' });
    await doc.send(new GetCommand({ TableName: 't', Key: { pk: 'new' } }));

    const [before, after] = [checkSignature(sent[0]!, 'dynamo-secret'), checkSignature(sent[1]!, 'replaced')];
    expect([before.accessKeyId, after.accessKeyId]).toEqual(['AKIDDYNAMO', 'AKIDREPLACED']);
    expect(after.signature).toBe(after.expected);
    doc.destroy();
  });
});

describe('each client and auth scheme its own signer', () => {
  it('signs each client’s requests with its own keys, region and service', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse(instant) });
    const dynamo = dynamoDocument({ region: 'cn-northwest-1' });
    const kmsRecorder = recorder('{"KeyMetadata":{"KeyId":"k1"}}');
    const kms = resolveOncePerCommand(
      new KMSClient({
        region,
        endpoint: 'http://127.0.0.1:1',
        credentials: { accessKeyId: 'AKIDKMS', secretAccessKey: 'kms-secret' },
        requestHandler: kmsRecorder.handler,
      }),
    );

    for (let round = 0; round < 2; round++) {
      await dynamo.doc.send(new GetCommand({ TableName: 't', Key: { pk: 'a' } }));
      const described = await kms.send(new DescribeKeyCommand({ KeyId: 'k1' }));
      expect(described.KeyMetadata?.KeyId).toBe('k1');
    }

    const dynamoChecks = dynamo.sent.map((request) => checkSignature(request, 'dynamo-secret'));
    const kmsChecks = kmsRecorder.sent.map((request) => checkSignature(request, 'kms-secret'));
    for (const check of dynamoChecks) {
      expect([check.accessKeyId, check.scope]).toEqual([
        'AKIDDYNAMO',
        '20260301/cn-northwest-1/dynamodb/aws4_request',
      ]);
      expect(check.signature).toBe(check.expected);
    }
    for (const check of kmsChecks) {
      expect([check.accessKeyId, check.scope]).toEqual(['AKIDKMS', `20260301/${region}/kms/aws4_request`]);
      expect(check.signature).toBe(check.expected);
    }
    dynamo.doc.destroy();
    kms.destroy();
  });

  it('keeps one signer per auth scheme an endpoint names, and builds a new one for another', async () => {
    const { built, Counted } = countingSigner();
    const client = signOncePerClient(
      new KMSClient({
        region,
        credentials: { accessKeyId: 'AKIDKMS', secretAccessKey: 'kms-secret' },
        signerConstructor: Counted,
      }),
    );
    const signerFor = client.config.signer as (scheme?: object) => Promise<unknown>;
    const north = { name: 'sigv4', signingName: 'kms', signingRegion: 'cn-north-1' };
    const northwest = { name: 'sigv4', signingName: 'kms', signingRegion: 'cn-northwest-1' };

    const first = await signerFor(north);
    expect(await signerFor({ ...north })).toBe(first);
    const other = await signerFor(northwest);
    expect(other).not.toBe(first);
    expect(await signerFor(northwest)).toBe(other);
    expect(built.count).toBe(2);
    client.destroy();
  });
});

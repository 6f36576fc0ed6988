/**
 * Finding 11, for licences issued before: their credentials were signed before every signature was
 * normalised, so half of them are high-S, which verifiers now refuse. The service serves each stored
 * credential in its low-S twin (the same claims, still valid, no KMS call), so such licences keep
 * verifying; the high-S text itself no longer does.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../functions/composition/dependencies.js';
import { isLowS } from '../../packages/verifier/src/crypto.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { postJson, scanItems } from '../support/http-api.js';
import { drivingLicenceBody, newIdNumber, type LicenceJson } from '../support/licences.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../support/runtime.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** The same compact JWS with the other valid signature, (r, n − s). */
function twin(jws: string): string {
  const dot = jws.lastIndexOf('.');
  const signature = Buffer.from(jws.slice(dot + 1), 'base64url');
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  const flipped = Buffer.from((N - s).toString(16).padStart(64, '0'), 'hex');
  return `${jws.slice(0, dot + 1)}${Buffer.concat([signature.subarray(0, 32), flipped]).toString('base64url')}`;
}

const signatureOf = (jws: string) => Buffer.from(jws.slice(jws.lastIndexOf('.') + 1), 'base64url');

let runtime: TestRuntime;
let token: string;
beforeAll(async () => {
  runtime = await startTestRuntime();
  token = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
});
afterAll(() => runtime?.close());

describe('a licence whose stored credential is high-S (signed before signatures were normalised)', () => {
  it('is served, and verifies, in its low-S form; its high-S text does not verify', async () => {
    const response = await postJson(runtime, '/licences', token, drivingLicenceBody(newIdNumber()), {
      'idempotency-key': randomUUID(),
    });
    const licence = (await response.json()) as LicenceJson;
    const highS = twin(licence.credential);
    expect(isLowS(signatureOf(highS))).toBe(false);

    // The item as an older version of the service would have written it.
    const [item] = await scanItems(`licence#${licence.id}`);
    const { doc, config } = dependencies();
    await doc.send(new PutCommand({ TableName: config.tableName, Item: { ...item, credential: highS } }));

    const served = (await (
      await fetch(`${runtime.baseUrl}/licences/${encodeURIComponent(licence.id)}`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as LicenceJson;
    expect(served.credential).toBe(licence.credential);
    expect(isLowS(signatureOf(served.credential))).toBe(true);

    const verify = async (qr: string) =>
      (await (await postJson(runtime, '/verify', undefined, { qr })).json()) as {
        verdict: string;
        reason: string;
      };
    expect(await verify(served.credential)).toMatchObject({ verdict: 'valid' });
    expect(await verify(highS)).toMatchObject({ verdict: 'invalid_signature', reason: 'signature_high_s' });
  });
});

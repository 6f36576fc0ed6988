import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { renderQrPng } from '../../../shared/licence/qr.js';
import { createPresentation } from '../../../shared/licence/presentation.js';
import { licenceAuditEntries } from '../../support/audit-entries.js';
import { expectProblem, postJson } from '../../support/http-api.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import {
  changeStatus,
  demoTokens,
  issueDrivingLicence,
  postVerify,
  readQrPng,
  syncedOfflineVerifier,
  verified,
  type IssuedLicence,
} from '../verify/helpers.js';

let runtime: TestRuntime;
let tokens: Awaited<ReturnType<typeof demoTokens>>;

beforeAll(async () => {
  runtime = await startTestRuntime();
  tokens = await demoTokens(runtime);
});
afterAll(() => runtime?.close());

/** The licence's QR code as the issuer API renders it, read back by a QR decoder. */
async function scanPng(licence: IssuedLicence): Promise<string> {
  const response = await fetch(`${runtime.baseUrl}/licences/${encodeURIComponent(licence.id)}/qr.png`, {
    headers: { authorization: `Bearer ${tokens.issuer}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return readQrPng(new Uint8Array(await response.arrayBuffer()));
}

describe('POST /verify: the round trip', () => {
  it('issue → QR PNG → decoder → /verify is valid; revoke → revoked at once', async () => {
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    const scanned = await scanPng(licence);
    expect(scanned).toBe(licence.credential);

    expect(await verified(runtime, scanned)).toMatchObject({
      verdict: 'valid',
      reason: 'ok',
      format: 'credential',
      licence: {
        id: licence.id,
        type: 'driving-licence',
        holder: { kind: 'person', masked: licence.holder.masked },
      },
      issuer: { id: runtime.credentials.issuer.id },
    });

    await changeStatus(runtime, tokens.issuer, licence.id, 'suspended');
    expect((await verified(runtime, scanned)).verdict).toBe('suspended');
    await changeStatus(runtime, tokens.issuer, licence.id, 'valid');
    expect((await verified(runtime, scanned)).verdict).toBe('valid');
    await changeStatus(runtime, tokens.issuer, licence.id, 'revoked');
    expect(await verified(runtime, scanned)).toMatchObject({ verdict: 'revoked', reason: 'status_revoked' });
  });

  it('offline: a synced verifier sees the revocation once the status list’s ttl has passed and it synced again', async () => {
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    let now = Date.now();
    const clock = () => now;
    const { store, verifier, report } = await syncedOfflineVerifier(runtime.baseUrl, clock);
    expect(report.failures).toEqual([]);
    expect(await verifier.verify(licence.credential)).toMatchObject({
      verdict: 'valid',
      status: { source: 'status-list', status: 'valid' },
      stale: false,
    });

    await changeStatus(runtime, tokens.issuer, licence.id, 'revoked');
    // Offline, the verifier knows only what it synced: still valid, and honest about the data's age.
    now += 301_000;
    const offline = await verifier.verify(licence.credential);
    expect(offline).toMatchObject({ verdict: 'valid', stale: true });
    // From the list's iat, signed by the service during the sync, a moment after `now` was read (on a busy
    // machine up to a few seconds): 301 s less that moment.
    expect(offline.dataAge).toBeGreaterThan(295);
    expect(offline.dataAge).toBeLessThanOrEqual(301);
    // Freshness counts from the list's iat, the service's clock: the test's clock rejoins it for the sync.
    now = Date.now();
    await store.sync();
    expect(await verifier.verify(licence.credential)).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked', stale: false },
      stale: false,
    });
  });
});

describe('POST /verify: what each caller sees', () => {
  let licence: IssuedLicence;
  beforeAll(async () => {
    licence = await issueDrivingLicence(runtime, tokens.issuer, { holderName: '欧阳小明' });
  });

  it('anonymous callers: type, issuer, masked holder, validity, verdict — no fields, no full name', async () => {
    const answer = await verified(runtime, licence.credential);
    expect(answer.licence).toEqual({
      id: licence.id,
      type: 'driving-licence',
      holder: { kind: 'person', name: '欧**明', masked: licence.holder.masked },
      validFrom: expect.any(String),
      validUntil: expect.any(String),
    });
    expect(answer.issuer).toEqual({
      id: runtime.credentials.issuer.id,
      name: expect.any(String),
      creditCode: '11110000000013223T',
      // The division it serves (跨地区互认: a peer's issuers say theirs).
      region: '110000',
    });
  });

  it('verifier clients (scope licences:verify): the holder’s name and the disclosed fields too', async () => {
    const answer = await verified(runtime, licence.credential, tokens.verifier);
    expect(answer.licence).toMatchObject({
      holder: { name: '欧阳小明' },
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
    });
  });

  it('a token that is sent must be good: unknown → 401, without the scope → 403', async () => {
    await expectProblem(
      await postVerify(runtime, licence.credential, 'not-a-real-token-but-long-enough'),
      401,
      'invalid_token',
    );
    await expectProblem(
      await postVerify(runtime, licence.credential, tokens.issuer),
      403,
      'insufficient_scope',
    );
  });

  it('is audited: who, which licence, which verdict, when — and nothing about the holder', async () => {
    await verified(runtime, licence.credential, tokens.verifier);
    const entries = await licenceAuditEntries(dependencies().auditPages, licence.id);
    const verifications = entries.filter((entry) => entry.action === 'licence.verified');
    expect(verifications.length).toBeGreaterThanOrEqual(2);
    expect(verifications).toContainEqual(
      expect.objectContaining({
        actor: runtime.credentials.verifier.clientId,
        licenceId: licence.id,
        issuerId: runtime.credentials.issuer.id,
        verdict: 'valid',
        at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      }),
    );
    expect(verifications).toContainEqual(expect.objectContaining({ actor: 'anonymous' }));
    const text = JSON.stringify(verifications);
    expect(text).not.toContain('欧阳小明');
    expect(text).not.toContain(licence.holder.masked);
  });
});

describe('POST /verify: presentations (亮证)', () => {
  it('a presentation made by the use case fits QR version 12, scans, verifies, and shows only what was chosen', async () => {
    const licence = await issueDrivingLicence(runtime, tokens.issuer);
    const deps = dependencies();
    const record = await deps.licences.get(licence.id);
    if (!record) throw new Error('the licence was not stored');
    const { token } = await createPresentation(
      licence.id,
      { disclose: ['vehicleClass', 'firstIssuedOn'], ttlSeconds: 120 },
      { holderLookupKeys: [record.holder.lookupKey], level: 3, actor: 'test-holder' },
      deps,
    );
    expect(QRCode.create(token, { errorCorrectionLevel: 'M' }).version).toBeLessThanOrEqual(12);
    const scanned = readQrPng(await renderQrPng(token));
    expect(scanned).toBe(token);

    expect(await verified(runtime, scanned, tokens.verifier)).toMatchObject({
      verdict: 'valid',
      format: 'presentation',
      licence: { id: licence.id, fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01' } },
    });
    expect((await verified(runtime, scanned, tokens.verifier)).licence?.fields).not.toHaveProperty(
      'archiveNumber',
    );

    // It points to the licence's status list entry: a verifier holding the list reads the status there,
    // so a revocation after the QR was shown is seen at the next sync; online, the record decides at once.
    const { store, verifier: offline } = await syncedOfflineVerifier(runtime.baseUrl);
    // Valid by the later signed word (docs/verifier.md): the list, if signed after the presentation was
    // made; the presentation's own status if the list held was signed before it (the second decides).
    expect(await offline.verify(scanned)).toMatchObject({ verdict: 'valid', status: { status: 'valid' } });
    await changeStatus(runtime, tokens.issuer, licence.id, 'revoked');
    expect((await verified(runtime, scanned)).verdict).toBe('revoked');
    expect((await offline.verify(scanned)).verdict).toBe('valid');
    await store.sync();
    expect(await offline.verify(scanned)).toMatchObject({
      verdict: 'revoked',
      status: { source: 'status-list', status: 'revoked' },
    });
  });
});

describe('POST /verify: hostile input', () => {
  it('answers a verdict, not an error, for anything that is not a credential', async () => {
    for (const qr of ['', 'hello', 'EL1:', 'EL1:$$$', 'a.b.c', 'https://example.com/', 'x'.repeat(5000)]) {
      const answer = await verified(runtime, qr);
      expect(answer.verdict, qr.slice(0, 20)).toBe('malformed');
      expect(answer.licence).toBeUndefined();
    }
  });

  it('answers 400 for a body that is not { qr: string }, 415 for another media type, 413 when oversized', async () => {
    await expectProblem(await postJson(runtime, '/verify', undefined, '{"qr":'), 400, 'malformed_json');
    await expectProblem(await postJson(runtime, '/verify', undefined, { qr: 42 }), 400, 'invalid_request');
    await expectProblem(await postJson(runtime, '/verify', undefined, {}), 400, 'invalid_request');
    await expectProblem(
      await postJson(runtime, '/verify', undefined, { qr: 'a', more: 1 }),
      400,
      'invalid_request',
    );
    await expectProblem(
      await postJson(runtime, '/verify', undefined, 'qr=abc', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    await expectProblem(
      await postJson(runtime, '/verify', undefined, { qr: 'x'.repeat(20_000) }),
      413,
      'payload_too_large',
    );
  });
});

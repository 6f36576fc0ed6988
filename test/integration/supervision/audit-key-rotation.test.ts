import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateKeyCommand } from '@aws-sdk/client-kms';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencies } from '../../../functions/composition/dependencies.js';
import { auditChains, platformSigner } from '../../../functions/composition/factories.js';
import {
  verifyAuditTrail,
  type ArchivedCheckpoint,
  type ArchivedKey,
  type AuditVerifyOptions,
} from '../../../shared/supervision/audit-chain-verify.js';
import { kmsSigner } from '../../../shared/adapters/kms/index.js';
import { UnavailableError } from '../../../shared/errors.js';
import { httpStatusOf } from '../../../shared/http/error-mapping.js';
import { auditKeySet, signCheckpoint } from '../../../shared/supervision/checkpoints.js';
import { emulatorKms, postJson } from '../../support/http-api.js';
import { adminToken, citizenAnswers, registerPlatform, signIn } from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';
import { demoTokens, issueDrivingLicence } from '../verify/helpers.js';

/**
 * Audit checkpoints are signed by a key of their own (the audit key), not the platform key: the platform
 * key rotates and its old generation leaves the JWKS a week later (docs/operating.md), while a checkpoint
 * must verify for as long as the trail is kept. Real KMS emulator, real HTTP, restarts as an operator
 * would deploy.
 */
let runtime: TestRuntime | undefined;
let dataDir: string;
let supervisor: { clientId: string; clientSecret: string };
const today = new Date().toISOString().slice(0, 10);
/** What a supervisor keeps between runs of `npm run audit:verify -- --archive`. */
let archive: ArchivedCheckpoint[] = [];
let archiveKeys: ArchivedKey[] = [];

afterAll(() => runtime?.close());

async function restart(env: Record<string, string>): Promise<TestRuntime> {
  // The same port, hence the same issuer (a checkpoint's `iss`), as a deployment keeps its URL.
  const port = new URL(runtime!.baseUrl).port;
  await runtime?.close();
  runtime = await startTestRuntime(dataDir, { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0', PORT: port, ...env });
  return runtime;
}

const options = (more: Partial<AuditVerifyOptions> = {}): AuditVerifyOptions => ({
  base: runtime!.baseUrl,
  ...supervisor,
  from: today,
  to: today,
  ...more,
});

/** One run with the archive, which it then replaces with the run's (as the command does). */
async function verifyWithArchive(more: Partial<AuditVerifyOptions> = {}) {
  const report = await verifyAuditTrail(options({ archive, archiveKeys, ...more }));
  archive = report.archive;
  archiveKeys = report.archiveKeys;
  return report;
}

async function signOnDemand(): Promise<string> {
  const token = await clientCredentialsToken(runtime!, supervisor, 'supervision');
  const response = await postJson(runtime!, '/supervision/audit/checkpoints', token, {});
  expect(response.status).toBe(201);
  return ((await response.json()) as { jws: string }).jws;
}

async function keySet(path: string): Promise<JWK[]> {
  const response = await fetch(`${runtime!.baseUrl}${path}`);
  expect(response.status).toBe(200);
  return ((await response.json()) as JSONWebKeySet).keys;
}

const newEcKey = async () =>
  (
    await emulatorKms(runtime!).send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    )
  ).KeyMetadata!.KeyId!;

let legacyJws: string;
let legacyKid: string;
/** When the audit key took over, as the operator's deploy record has it: after the legacy checkpoint. */
let tookOver: string;
let auditKid: string;
let newAuditKeyId: string;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { AUDIT_CHECKPOINT_INTERVAL_SECONDS: '0' });
  dataDir = runtime.dataDir;
  const registered = await postJson(runtime, '/admin/clients', await adminToken(runtime), {
    name: '电子监察 archive keeper',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  supervisor = (await registered.json()) as typeof supervisor;
  await issueDrivingLicence(runtime, (await demoTokens(runtime)).issuer);
  // A checkpoint as the service signed them before the audit key existed: with the platform key
  // (generation 1), its kid in /.well-known/jwks.json.
  const deps = dependencies();
  legacyJws = (
    await signCheckpoint(
      {},
      {
        auditChains: auditChains(deps),
        auditSigner: platformSigner(deps),
        clock: deps.clock,
        iss: deps.config.issuerUrl,
      },
    )
  ).jws;
  legacyKid = decodeProtectedHeader(legacyJws).kid!;
  // A checkpoint's `iat` is in seconds, and a platform-signed one counts as history only if older than
  // the first audit-key checkpoint (security review M1): the audit key takes over in a later second.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  tookOver = new Date().toISOString();
}, 120_000);

describe('audit checkpoints across a platform key rotation (docs/operating.md)', () => {
  it('signs checkpoints with the audit key, published at GET /supervision/audit/keys, not in the JWKS', async () => {
    const jws = await signOnDemand();
    const header = decodeProtectedHeader(jws);
    expect(header).toMatchObject({ typ: 'audit-checkpoint+jwt', alg: 'ES256' });
    auditKid = header.kid!;
    const auditKeys = await keySet('/supervision/audit/keys');
    expect(auditKeys.map((key) => key.kid)).toEqual([auditKid]);
    expect(auditKeys[0]).not.toHaveProperty('d');
    const platformKeys = await keySet('/.well-known/jwks.json');
    expect(platformKeys.map((key) => key.kid)).toContain(legacyKid);
    expect(platformKeys.map((key) => key.kid)).not.toContain(auditKid);
    // Verifies against the audit keys, and not against the platform's.
    await jwtVerify(jws, createLocalJWKSet({ keys: auditKeys }), { typ: 'audit-checkpoint+jwt' });
    await expect(jwtVerify(jws, createLocalJWKSet({ keys: platformKeys }))).rejects.toThrow();

    // Without the cut-over pinned, the platform key's checkpoint proves nothing (security review 22b H1).
    const unpinned = await verifyAuditTrail(options());
    expect(unpinned.badCheckpoints).toEqual([expect.stringContaining(legacyKid)]);
    expect(unpinned.archive.map((one) => one.jws)).not.toContain(legacyJws);
    // The first run, pinned: every checkpoint verifies, and the archive keeps each kid's key (later runs
    // accept the legacy checkpoint as archived, with no pin).
    const first = await verifyWithArchive({ platformCheckpointsUntil: tookOver });
    expect(first.badCheckpoints).toEqual([]);
    expect(first.faults).toEqual([]);
    expect(first.ok).toBe(true);
    expect(
      archiveKeys.map(({ kid, set }) => ({ kid, set })).sort((a, b) => a.set.localeCompare(b.set)),
    ).toEqual([
      { kid: auditKid, set: 'audit' },
      { kid: legacyKid, set: 'platform' },
    ]);
    expect(archive.map((one) => one.jws)).toContain(legacyJws);
  }, 60_000);

  it('an ID token is not signed by the audit key', async () => {
    const platform = await registerPlatform(runtime!, await adminToken(runtime!), {
      name: 'Audit key separation platform',
      redirectUris: ['https://rp.example/cb'],
      scopes: ['openid', 'profile'],
    });
    const { tokens } = await signIn(platform, new UserAgent(runtime!.baseUrl), citizenAnswers(runtime!), {
      scope: 'openid',
    });
    const kid = decodeProtectedHeader(tokens.id_token!).kid;
    expect(kid).toBeDefined();
    expect((await keySet('/supervision/audit/keys')).map((key) => key.kid)).not.toContain(kid);
    await expect(
      jwtVerify(tokens.id_token!, createLocalJWKSet({ keys: await keySet('/supervision/audit/keys') })),
    ).rejects.toThrow();
  }, 60_000);

  it('rotating the platform key and dropping generation 1: every checkpoint still verifies', async () => {
    // Step 1: `-c platformKeys=2,1`.
    const generation2 = await newEcKey();
    await restart({ PLATFORM_KEY_ID: generation2, PLATFORM_PREVIOUS_KEY_IDS: 'alias/elicence-platform' });
    await signOnDemand();
    const during = await verifyWithArchive();
    expect(during.badCheckpoints).toEqual([]);
    expect(during.ok).toBe(true);

    // Step 2, a week later: `-c platformKeys=2`. Generation 1 leaves the JWKS.
    await restart({ PLATFORM_KEY_ID: generation2 });
    expect((await keySet('/.well-known/jwks.json')).map((key) => key.kid)).not.toContain(legacyKid);
    const jws = await signOnDemand();
    expect(decodeProtectedHeader(jws).kid).toBe(auditKid);
    const after = await verifyWithArchive();
    expect(after.badCheckpoints).toEqual([]);
    expect(after.faults).toEqual([]);
    expect(after.ok).toBe(true);
    expect(after.checkpoints.length).toBeGreaterThanOrEqual(4);

    // Without the archive, the audit key's checkpoints verify from the published set alone; only the one
    // signed by the retired platform key needs its archived key.
    const bare = await verifyAuditTrail(options());
    expect(bare.badCheckpoints).toHaveLength(1);
    expect(bare.badCheckpoints[0]).toContain(legacyKid);
    expect(bare.checkpoints.map((one) => one.kid)).toEqual(bare.checkpoints.map(() => auditKid));
  }, 120_000);
});

describe('npm run audit:verify -- --archive', () => {
  const command = (file: string) =>
    promisify(execFile)(
      'npx',
      ['tsx', 'scripts/audit-verify.ts', '--base', runtime!.baseUrl, '--from', today, '--archive', file],
      {
        env: {
          ...process.env,
          SUPERVISION_CLIENT_ID: supervisor.clientId,
          SUPERVISION_CLIENT_SECRET: supervisor.clientSecret,
        },
      },
    );

  it('keeps the keys in its file, which prove the retired platform key’s checkpoint', async () => {
    const file = join(dataDir, 'audit-archive.json');
    await writeFile(file, JSON.stringify({ checkpoints: archive, keys: archiveKeys }));
    const { stdout } = await command(file);
    expect(stdout).toContain('OK: every chain');
    const kept = JSON.parse(await readFile(file, 'utf8')) as { keys: ArchivedKey[] };
    expect(kept.keys.map((key) => key.kid)).toEqual(expect.arrayContaining([auditKid, legacyKid]));
    // The same checkpoints without their keys (an archive written before keys were kept): the one the
    // retired platform key signed can no longer be proven.
    const bare = join(dataDir, 'audit-archive-bare.json');
    await writeFile(bare, JSON.stringify({ checkpoints: archive }));
    const failed = await command(bare).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`BAD CHECKPOINT`);
    expect(failed?.stderr).toContain(legacyKid);
  }, 60_000);
});

describe('the audit key set against the archive', () => {
  it('rotating the audit key keeps every generation published; what each signed verifies', async () => {
    newAuditKeyId = await newEcKey();
    await restart({ AUDIT_KEY_ID: newAuditKeyId, AUDIT_PREVIOUS_KEY_IDS: 'alias/elicence-audit' });
    const jws = await signOnDemand();
    const newKid = decodeProtectedHeader(jws).kid!;
    expect(newKid).not.toBe(auditKid);
    expect((await keySet('/supervision/audit/keys')).map((key) => key.kid)).toEqual([newKid, auditKid]);
    const report = await verifyWithArchive();
    expect(report.badCheckpoints).toEqual([]);
    expect(report.ok).toBe(true);
    expect(archiveKeys.map((key) => key.kid)).toContain(newKid);
  }, 120_000);

  it('reports a key set that answers another key for an archived kid (fail closed)', async () => {
    const { publicKey } = await generateKeyPair('ES256');
    const other = await exportJWK(publicKey);
    // The service (or whoever stands in front of it) answers a different key under the archived kid.
    const swapping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/supervision/audit/keys')) return response;
      const { keys } = (await response.json()) as JSONWebKeySet;
      const swapped = keys.map((key) => (key.kid === auditKid ? { ...key, x: other.x, y: other.y } : key));
      return Response.json({ keys: swapped });
    };
    const report = await verifyAuditTrail(options({ archive, archiveKeys, fetch: swapping }));
    expect(report.ok).toBe(false);
    expect(report.faults.map((fault) => fault.problem)).toContainEqual(
      expect.stringContaining(`another key for kid ${auditKid}`),
    );
    // The archived key still verifies what it signed: no checkpoint is taken on the swapped key's word.
    expect(report.badCheckpoints).toEqual([]);
  }, 60_000);

  it('reports an audit key dropped from the set, and its archived key still verifies its checkpoints', async () => {
    // Against docs/operating.md: the previous audit key left out.
    await restart({ AUDIT_KEY_ID: newAuditKeyId });
    expect((await keySet('/supervision/audit/keys')).map((key) => key.kid)).not.toContain(auditKid);
    const report = await verifyAuditTrail(options({ archive, archiveKeys }));
    expect(report.ok).toBe(false);
    expect(report.faults.map((fault) => fault.problem)).toContainEqual(
      expect.stringContaining(`no longer lists kid ${auditKid}`),
    );
    expect(report.badCheckpoints).toEqual([]);
    expect(report.checkpoints.map((one) => one.kid)).toContain(auditKid);
    // Without the archive, nothing proves them: their kid is unknown.
    const bare = await verifyAuditTrail(options());
    expect(bare.badCheckpoints.some((bad) => bad.includes(auditKid))).toBe(true);
  }, 120_000);
});

describe('a checkpoint signed with the platform key after the audit key took over (security review M1)', () => {
  it('is a bad checkpoint naming its kid, though the JWKS lists that key', async () => {
    // Whoever holds a role that may sign with the platform key (oidc, me, trust-list) signs a checkpoint
    // and gets it listed: exactly what the service signed before the audit key, but now.
    const deps = dependencies();
    const forged = await signCheckpoint(
      {},
      {
        auditChains: auditChains(deps),
        auditSigner: platformSigner(deps),
        clock: deps.clock,
        iss: deps.config.issuerUrl,
      },
    );
    const kid = decodeProtectedHeader(forged.jws).kid!;
    expect((await keySet('/.well-known/jwks.json')).map((key) => key.kid)).toContain(kid);
    const report = await verifyAuditTrail(options({ archive, archiveKeys }));
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toContainEqual(expect.stringContaining(`platform key kid ${kid}`));
    // The one signed before the audit key, with the same key, is still proven (by the archive); the forged
    // one covers nothing.
    expect(report.badCheckpoints.filter((bad) => bad.includes(kid))).toHaveLength(1);
    expect(report.checkpoints.filter((one) => one.kid === kid)).toHaveLength(1);
    expect(report.archive.map((one) => one.jws)).toContain(legacyJws);
  }, 60_000);
});

describe('GET /supervision/audit/keys when a key cannot be read (security review L2)', () => {
  const missing = '00000000-0000-4000-8000-00000000dead';

  it('answers the keys it can read when an earlier generation cannot be read; the archive reports the one missing', async () => {
    await restart({ AUDIT_KEY_ID: newAuditKeyId, AUDIT_PREVIOUS_KEY_IDS: `${missing},alias/elicence-audit` });
    const response = await fetch(`${runtime!.baseUrl}/supervision/audit/keys`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const kids = ((await response.json()) as JSONWebKeySet).keys.map((key) => key.kid);
    expect(kids).toEqual([decodeProtectedHeader(await signOnDemand()).kid, auditKid]);
    // Generation 1 unreadable: the service still answers, and a supervisor's archive names the dropped kid.
    await restart({ AUDIT_KEY_ID: newAuditKeyId, AUDIT_PREVIOUS_KEY_IDS: missing });
    const report = await verifyAuditTrail(options({ archive, archiveKeys }));
    expect(report.faults.map((fault) => fault.problem)).toContainEqual(
      expect.stringContaining(`no longer lists kid ${auditKid}`),
    );
  }, 120_000);

  it('is unavailable (503), never a partial set, when the signing key cannot be read', async () => {
    // The local runtime refuses to start without its signing key, so the set is asked of the same KMS
    // emulator directly, as the handler asks it.
    const kms = emulatorKms(runtime!);
    const failed = await auditKeySet({
      auditSigner: kmsSigner(kms, missing),
      auditPreviousSigners: [kmsSigner(kms, 'alias/elicence-audit')],
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failed).toBeInstanceOf(UnavailableError);
    expect(httpStatusOf(failed as UnavailableError)).toBe(503);
    // Both readable: the whole set, to be cached.
    const whole = await auditKeySet({
      auditSigner: kmsSigner(kms, newAuditKeyId),
      auditPreviousSigners: [kmsSigner(kms, 'alias/elicence-audit')],
    });
    expect(whole.complete).toBe(true);
    expect(whole.set.keys.map((key) => key.kid)).toContain(auditKid);
  }, 60_000);
});

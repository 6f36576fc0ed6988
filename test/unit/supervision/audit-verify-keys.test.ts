import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  verifyAuditTrail,
  type ArchivedCheckpoint,
  type ArchivedKey,
  type AuditVerifyOptions,
} from '../../../shared/supervision/audit-chain-verify.js';
import { link } from '../../../shared/supervision/audit-chain.js';

/**
 * Which key may sign a checkpoint of when (security review M1, L3): a service answered by a fetch of our
 * own, with an audit key and a platform key (the one the internet-facing functions sign with), so that
 * each rule is shown on checkpoints signed exactly as an attacker holding the platform key would.
 */
const day = '2026-12-05';
const base = 'https://svc.example';
const chain = `${day}.abcdefghijkl`;
const entry = link(
  { at: `${day}T01:00:00.000Z`, actor: 'x', action: 'licence.verified', licenceId: 'L1' },
  chain,
);
const heads = [{ chain, seq: entry.seq, hash: entry.hash }];
const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);

interface Key {
  privateKey: CryptoKey;
  jwk: JWK & { kid: string };
}
const newKey = async (): Promise<Key> => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { privateKey, jwk: { ...jwk, kid, alg: 'ES256', use: 'sig' } };
};
let auditA: Key;
let auditB: Key;
let platform: Key;
beforeAll(async () => {
  [auditA, auditB, platform] = await Promise.all([newKey(), newKey(), newKey()]);
});

/** A checkpoint (first format: heads in the payload) of `days`, signed by `key` at `at`. */
async function checkpoint(key: Key, at: string, days = [day]): Promise<ArchivedCheckpoint> {
  const jws = await new SignJWT({ days, chains: heads })
    .setProtectedHeader({ alg: 'ES256', typ: 'audit-checkpoint+jwt', kid: key.jwk.kid })
    .setIssuer(base)
    .setIssuedAt(seconds(at))
    .sign(key.privateKey);
  return { at, jws };
}

/** The service: the JWKS lists the platform key, the audit set `audit`, the checkpoints `listed` (newest first). */
function service(listed: ArchivedCheckpoint[], audit: Key[] = [auditA]): typeof fetch {
  const routes: Record<string, unknown> = {
    '/.well-known/openid-configuration': {
      issuer: base,
      jwks_uri: `${base}/.well-known/jwks.json`,
      token_endpoint: `${base}/token`,
    },
    '/.well-known/jwks.json': { keys: [platform.jwk] },
    '/supervision/audit/keys': { keys: audit.map((key) => key.jwk) },
    '/supervision/audit/checkpoints': { items: listed.map(({ at, jws }) => ({ at, jws })) },
    '/supervision/audit': { items: [entry] },
  };
  return (async (url: string | URL | Request) => {
    const body = routes[new URL(String(url)).pathname];
    return new Response(JSON.stringify(body ?? {}), { status: body ? 200 : 404 });
  }) as typeof fetch;
}

/** The verifier's time: during the day, unless a test says otherwise (a past day needs its closing checkpoint). */
const during = Date.parse(`${day}T18:00:00.000Z`);
const afterClosing = Date.parse('2026-12-06T00:30:00.000Z');

const verify = (listed: ArchivedCheckpoint[], more: Partial<AuditVerifyOptions> = {}, audit?: Key[]) =>
  verifyAuditTrail({
    base,
    accessToken: 't',
    from: day,
    to: day,
    fetch: service(listed, audit),
    now: during,
    ...more,
  });

describe('a checkpoint signed with the platform key (security review M1)', () => {
  it('is bad, naming its kid, when signed at or after the first audit-key checkpoint', async () => {
    const forged = await checkpoint(platform, `${day}T13:00:00.000Z`);
    const report = await verify([forged, await checkpoint(auditA, `${day}T12:00:00.000Z`)]);
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toEqual([expect.stringContaining(`platform key kid ${platform.jwk.kid}`)]);
    expect(report.checkpoints.map((one) => one.kid)).toEqual([auditA.jwk.kid]);
    // Its key is not archived as one that proves anything, nor (a failing run) any other (review 22b L1).
    expect(report.archiveKeys).toEqual([]);
    expect(report.archive.map((one) => one.jws)).not.toContain(forged.jws);
    // The same second as the audit key's first checkpoint is not before it.
    const same = await verify([
      await checkpoint(platform, `${day}T12:00:00.000Z`),
      await checkpoint(auditA, `${day}T12:00:00.000Z`),
    ]);
    expect(same.badCheckpoints).toEqual([expect.stringContaining(platform.jwk.kid)]);
  });

  it('is accepted as the history from before the audit key, listed or archived', async () => {
    const legacy = await checkpoint(platform, `${day}T06:00:00.000Z`);
    const audited = await checkpoint(auditA, `${day}T12:00:00.000Z`);
    // The cut-over is the supervisor's own (review 22b H1): without it, even the true history is refused.
    expect((await verify([audited, legacy])).badCheckpoints).toEqual([
      expect.stringContaining("from the operator's deploy record"),
    ]);
    const first = await verify([audited, legacy], { platformCheckpointsUntil: `${day}T16:00:00+08:00` });
    expect(first.badCheckpoints).toEqual([]);
    expect(first.ok).toBe(true);
    expect(first.archiveKeys.map((key) => key.set).sort()).toEqual(['audit', 'platform']);
    // A later run, the platform key gone from the JWKS, no pin: the archived checkpoint and key prove it.
    const later = await verify([audited, legacy], { archive: first.archive, archiveKeys: first.archiveKeys });
    expect(later.badCheckpoints).toEqual([]);
    expect(later.ok).toBe(true);
  });

  it('is bad with an archived audit key and no pin, even signed before that key was first seen', async () => {
    const archiveKeys: ArchivedKey[] = [
      { kid: auditA.jwk.kid, set: 'audit', jwk: auditA.jwk, firstSeen: `${day}T12:00:00.000Z` },
    ];
    const report = await verify([await checkpoint(platform, `${day}T11:00:00.000Z`)], {
      archive: [],
      archiveKeys,
    });
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toEqual([expect.stringContaining("from the operator's deploy record")]);
  });

  it('--platform-checkpoints-until pins the cut-over when no audit checkpoint is seen', async () => {
    const listed = [await checkpoint(platform, `${day}T11:00:00.000Z`)];
    // A service before the audit key: its checkpoints are the platform key's.
    expect((await verify(listed, {}, [])).ok).toBe(true);
    // The audit key exists but has signed nothing seen (the reviewer's reproduction): nothing dates the
    // cut-over, so a platform signature proves nothing (fail closed).
    const undated = await verify(listed);
    expect(undated.ok).toBe(false);
    expect(undated.badCheckpoints).toEqual([
      expect.stringContaining(
        `platform key kid ${platform.jwk.kid} at ${day}T11:00:00.000Z, while the audit key exists`,
      ),
    ]);
    const pinned = await verify(listed, { platformCheckpointsUntil: `${day}T10:00:00Z` });
    expect(pinned.ok).toBe(false);
    expect(pinned.badCheckpoints).toEqual([
      expect.stringContaining('pinned by --platform-checkpoints-until'),
    ]);
    expect((await verify(listed, { platformCheckpointsUntil: `${day}T11:00:01Z` })).ok).toBe(true);
    await expect(verify(listed, { platformCheckpointsUntil: 'yesterday' })).rejects.toThrow(
      /platformCheckpointsUntil/,
    );
    // Without an offset it would be read as the verifier's local time (review 22b L2).
    await expect(verify(listed, { platformCheckpointsUntil: `${day}T11:00:01` })).rejects.toThrow(
      /with Z or a UTC offset/,
    );
    expect((await verify(listed, { platformCheckpointsUntil: `${day}T19:00:01+08:00` })).ok).toBe(true);
    expect((await verify(listed, { platformCheckpointsUntil: `${day}T18:59:59+08:00` })).ok).toBe(false);
  });

  it('is bad however the listing is trimmed: an audit-key checkpoint deleted, a later platform one listed (review 22b H1, v1)', async () => {
    // The audit checkpoints of the day deleted, a later one of other days left, a forged one inserted.
    const laterAudit = await checkpoint(auditA, '2026-12-07T00:05:00.000Z', ['2026-12-06', '2026-12-07']);
    const forged = await checkpoint(platform, '2026-12-06T23:00:00.000Z');
    const report = await verify([laterAudit, forged]);
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toEqual([expect.stringContaining(`platform key kid ${platform.jwk.kid}`)]);
    // An archived audit key first seen after it (the verifier's first run) moves nothing either.
    const archiveKeys: ArchivedKey[] = [
      { kid: auditA.jwk.kid, set: 'audit', jwk: auditA.jwk, firstSeen: '2026-12-10T08:00:00.000Z' },
    ];
    expect((await verify([laterAudit, forged], { archive: [], archiveKeys })).ok).toBe(false);
  });

  it('stays bad on the run after a refusal: the refusal archives neither it nor a key that dates the cut-over (review 22b H1, v4)', async () => {
    const forged = await checkpoint(platform, `${day}T11:00:00.000Z`);
    const first = await verify([forged], { archive: [], archiveKeys: [] });
    expect(first.ok).toBe(false);
    expect(first.badCheckpoints[0]).not.toContain('--checkpoint');
    const second = await verify([forged], { archive: first.archive, archiveKeys: first.archiveKeys });
    expect(second.ok).toBe(false);
    expect(second.badCheckpoints).toEqual([expect.stringContaining(`platform key kid ${platform.jwk.kid}`)]);
    // Even with the audit key archived from an earlier run (firstSeen later than the forged iat).
    const archiveKeys: ArchivedKey[] = [
      { kid: auditA.jwk.kid, set: 'audit', jwk: auditA.jwk, firstSeen: new Date().toISOString() },
    ];
    expect((await verify([forged], { archive: first.archive, archiveKeys })).ok).toBe(false);
  });

  it('is bad when it names a day after the one it was signed on (backdated)', async () => {
    const backdated = await checkpoint(platform, '2026-12-04T23:00:00.000Z', [day]);
    const report = await verify([await checkpoint(auditA, `${day}T12:00:00.000Z`), backdated]);
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toEqual([
      expect.stringContaining(`signs day ${day}, after the day it was signed`),
    ]);
  });
});

describe('a new audit kid (security review L3)', () => {
  it('is bad when it signs a checkpoint older than an archived one of another audit kid', async () => {
    const before = await checkpoint(auditA, `${day}T12:00:00.000Z`);
    const first = await verify([before]);
    expect(first.ok).toBe(true);
    // Generation B appears in the audit set, and signs "earlier" than what A signed and the archive keeps.
    const backdated = await checkpoint(auditB, `${day}T11:00:00.000Z`);
    const report = await verify(
      [before, backdated],
      { archive: first.archive, archiveKeys: first.archiveKeys },
      [auditB, auditA],
    );
    expect(report.ok).toBe(false);
    expect(report.badCheckpoints).toEqual([
      expect.stringContaining(`audit kid ${auditB.jwk.kid}, first listed in this run`),
    ]);
  });

  it('is accepted when it signs after (a rotation), and is archived from the first run that lists it', async () => {
    const before = await checkpoint(auditA, `${day}T12:00:00.000Z`);
    // Both generations listed from the first run (B not yet signing): both archived.
    const first = await verify([before], {}, [auditB, auditA]);
    expect(first.archiveKeys.map((key) => key.kid).sort()).toEqual([auditA.jwk.kid, auditB.jwk.kid].sort());
    const rotated = await checkpoint(auditB, `${day}T13:00:00.000Z`);
    const report = await verify(
      [rotated, before],
      { archive: first.archive, archiveKeys: first.archiveKeys },
      [auditB, auditA],
    );
    expect(report.badCheckpoints).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('a kid of both sets (security review 22b L3)', () => {
  it('is refused as a platform key when the audit set lists it or the archive keeps it as an audit key', async () => {
    const archiveKeys: ArchivedKey[] = [
      { kid: auditA.jwk.kid, set: 'audit', jwk: auditA.jwk, firstSeen: `${day}T00:00:00.000Z` },
    ];
    const both = (async (url: string | URL | Request) => {
      const path = new URL(String(url)).pathname;
      if (path === '/.well-known/jwks.json') {
        return new Response(JSON.stringify({ keys: [platform.jwk, auditA.jwk] }), { status: 200 });
      }
      return service([await checkpoint(auditA, `${day}T12:00:00.000Z`)])(url);
    }) as typeof fetch;
    const report = await verify([], { fetch: both, archive: [], archiveKeys });
    expect(report.ok).toBe(false);
    expect(report.faults).toEqual([
      expect.objectContaining({
        problem: expect.stringContaining(`platform JWKS lists kid ${auditA.jwk.kid}`),
      }),
    ]);
    // An archive that keeps an audit kid as a platform key: that key is not used.
    const moved: ArchivedKey[] = [
      { kid: auditA.jwk.kid, set: 'platform', jwk: auditA.jwk, firstSeen: `${day}T00:00:00.000Z` },
    ];
    const again = await verify([await checkpoint(auditA, `${day}T12:00:00.000Z`)], {
      archive: [],
      archiveKeys: moved,
    });
    expect(again.faults).toEqual([
      expect.objectContaining({
        problem: expect.stringContaining(`keeps kid ${auditA.jwk.kid} as a platform key`),
      }),
    ]);
  });
});

describe('a new audit kid archived only by a run that verified (security review 22b L1)', () => {
  it('keeps the backdating rule over a failing run', async () => {
    const before = await checkpoint(auditA, `${day}T12:00:00.000Z`);
    const first = await verify([before]);
    expect(first.ok).toBe(true);
    const backdated = await checkpoint(auditB, `${day}T11:00:00.000Z`);
    const listed = [before, backdated];
    const second = await verify(listed, { archive: first.archive, archiveKeys: first.archiveKeys }, [
      auditB,
      auditA,
    ]);
    expect(second.ok).toBe(false);
    const third = await verify(listed, { archive: second.archive, archiveKeys: second.archiveKeys }, [
      auditB,
      auditA,
    ]);
    expect(third.ok).toBe(false);
    expect(third.badCheckpoints).toEqual([
      expect.stringContaining(`audit kid ${auditB.jwk.kid}, first listed in this run`),
    ]);
  });
});

describe('a chain of a day its closing checkpoint does not name (security review 22b M1)', () => {
  it('is a fault once a checkpoint signed after the day ended covers it; unsigned as before without one', async () => {
    // A table writer adds a self-consistent chain of its own to a day already closed.
    const added = link(
      { at: `${day}T02:00:00.000Z`, actor: 'cli_evil', action: 'licence.verified', licenceId: 'L9' },
      `${day}.zzzzzzzzzzzz`,
    );
    const withAdded = (listed: ArchivedCheckpoint[]) =>
      (async (url: string | URL | Request) => {
        if (new URL(String(url)).pathname === '/supervision/audit') {
          return new Response(JSON.stringify({ items: [entry, added] }), { status: 200 });
        }
        return service(listed)(url);
      }) as typeof fetch;
    const closing = await checkpoint(auditA, '2026-12-06T00:05:00.000Z', [day, '2026-12-06']);
    const report = await verify([closing], { fetch: withAdded([closing]), now: afterClosing });
    expect(report.ok).toBe(false);
    expect(report.faults).toEqual([
      {
        chain: added.chain,
        seq: 1,
        problem: expect.stringContaining("chain not in the day's closing checkpoint"),
      },
    ]);
    // A checkpoint signed during the day does not close it: a chain started later is not named yet…
    const signedDuring = await checkpoint(auditA, `${day}T01:30:00.000Z`);
    const open = await verify([signedDuring], { fetch: withAdded([signedDuring]) });
    expect(open.faults).toEqual([]);
    expect(open.ok).toBe(true);
    // …but once the day is past, it needs its closing checkpoint (R24 M1).
    const unclosed = await verify([signedDuring], { fetch: withAdded([signedDuring]), now: afterClosing });
    expect(unclosed.faults).toEqual([
      expect.objectContaining({ problem: expect.stringContaining(`no closing checkpoint for ${day}`) }),
    ]);
    // No checkpoint at all: unsigned, as before (not closed, once past).
    const none = await verify([], { fetch: withAdded([]) });
    expect(none.faults).toEqual([expect.objectContaining({ problem: expect.stringContaining('unsigned') })]);
    const noneAfter = await verify([], { fetch: withAdded([]), now: afterClosing });
    expect(noneAfter.faults).toEqual([
      expect.objectContaining({ problem: expect.stringContaining(`no closing checkpoint for ${day}`) }),
    ]);
  });
});

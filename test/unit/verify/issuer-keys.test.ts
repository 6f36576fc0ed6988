import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../shared/audit/audit-trail.js';
import { withdrawnCredentialKids } from '../../../shared/issuers/credential-key.js';
import { issuerView, type Issuer } from '../../../shared/issuers/issuer.js';
import { issuerKeyHistory, publishedKeys } from '../../../shared/issuers/issuer-keys.js';
import { rotateIssuerKey, rotationLockMs } from '../../../shared/issuers/rotate-issuer-key.js';
import { withdrawIssuer } from '../../../shared/issuers/withdraw-issuer.js';
import { withdrawIssuerKey } from '../../../shared/issuers/withdraw-issuer-key.js';
import { trustListIssuers } from '../../../shared/licence/trust-list.js';
import { reconcilePendingWork } from '../../../shared/reconciler/reconcile-pending-work.js';
import { ConflictError } from '../../../shared/errors.js';
import { loggedLines } from '../../support/logged-lines.js';
import { InMemoryClientStore, InMemoryIssuerStore, InMemoryKeyManager } from '../../support/in-memory.js';
import {
  InMemoryLicenceStore,
  InMemoryPendingWork,
  InMemoryStatusListStore,
} from '../../support/in-memory-licence.js';

let issuers: InMemoryIssuerStore;
let keys: InMemoryKeyManager;
let clients: InMemoryClientStore;
let entries: AuditEntry[];
/** Audit writes still to fail (the audit table throttled, unreachable). */
let auditFailures: number;
let issuer: Issuer;
let time: number;
const context = { clientId: 'demo-admin' };

function deps() {
  return {
    issuers,
    operatorAudit: issuers.pendingAudit,
    keys,
    signerFor: keys.signerFor,
    audit: {
      record: async (entry: AuditEntry) => {
        if (auditFailures > 0) {
          auditFailures -= 1;
          throw new Error('ProvisionedThroughputExceededException');
        }
        entries.push(entry);
      },
    },
    clock: { now: () => time },
    clients,
  };
}

/** The reconciler's run (every minute), over the issuer changes' pending work (no licence has any). */
const reconcile = () =>
  reconcilePendingWork(
    {
      ...deps(),
      licences: new InMemoryLicenceStore(),
      statusLists: new InMemoryStatusListStore(),
      pendingWork: new InMemoryPendingWork(),
      pendingAudit: new InMemoryPendingWork(),
      accountAudit: new InMemoryPendingWork(),
      providerAudit: new InMemoryPendingWork(),
    },
    { minAgeSeconds: 60, limit: 10 },
  );

const kids = (published: Issuer) => publishedKeys(published).map((jwk) => jwk.kid);

beforeEach(async () => {
  issuers = new InMemoryIssuerStore();
  keys = new InMemoryKeyManager();
  clients = new InMemoryClientStore();
  await clients.save({ client_id: 'cl_rotating' });
  entries = [];
  auditFailures = 0;
  time = Date.parse('2025-06-01T08:00:00Z');
  const { keyId } = await keys.createSigningKey();
  const signer = keys.signerFor(keyId);
  issuer = await issuers.claim({
    id: 'iss_Rotating00000000',
    name: '测试局',
    creditCode: '11110000000013223T',
    region: '110000',
    licenceTypes: ['driving-licence'],
    status: 'active',
    keyId,
    kid: await signer.kid(),
    publicJwk: await signer.publicJwk(),
    clientId: 'cl_rotating',
    createdAt: '2025-01-01T00:00:00.000Z',
    version: 0,
  });
});

describe('rotating an issuer’s key', () => {
  it('makes a new key current and keeps the old one published, so older licences still verify', async () => {
    time += 1000;
    const rotated = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    expect(rotated.keyId).toBe('key-2');
    expect(rotated.kid).toBe(await keys.signerFor('key-2').kid());
    expect(issuerKeyHistory(rotated)).toEqual([
      expect.objectContaining({
        kid: issuer.kid,
        keyId: 'key-1',
        createdAt: issuer.createdAt,
        retiredAt: new Date(time).toISOString(),
      }),
      expect.objectContaining({ kid: rotated.kid, keyId: 'key-2', createdAt: new Date(time).toISOString() }),
    ]);
    expect(publishedKeys(rotated).map((jwk) => jwk.kid)).toEqual([issuer.kid, rotated.kid]);
    expect(trustListIssuers([rotated])[0]?.jwks.keys.map((jwk) => jwk.kid)).toEqual([
      issuer.kid,
      rotated.kid,
    ]);
    expect(entries).toEqual([expect.objectContaining({ action: 'issuer.key-rotated', issuerId: issuer.id })]);
  });

  it('withdraws the previous key from the trust list when asked (compromise)', async () => {
    const rotated = await rotateIssuerKey(issuer.id, { previousKey: 'withdraw' }, context, deps());
    expect(publishedKeys(rotated).map((jwk) => jwk.kid)).toEqual([rotated.kid]);
    const again = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    expect(publishedKeys(again).map((jwk) => jwk.kid)).toEqual([rotated.kid, again.kid]);
    expect(issuerKeyHistory(again)).toHaveLength(3);
  });

  it('never shows KMS key ids in the admin view', async () => {
    const rotated = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    expect(JSON.stringify(issuerView(rotated))).not.toContain('key-');
    expect(issuerView(rotated).keys).toHaveLength(2);
  });

  it('schedules the new key for deletion when the issuer changed meanwhile (409), and releases its lock', async () => {
    const save = issuers.save.bind(issuers);
    let writes = 0;
    issuers.save = async (next) => {
      writes += 1;
      // The second write makes the new key current: the issuer changed since the lock was taken.
      if (writes === 2) throw new ConflictError('changed', 'issuer_changed');
      return save(next);
    };
    await expect(rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps())).rejects.toMatchObject({
      kind: 'conflict',
    });
    issuers.save = save;
    expect([...keys.scheduledForDeletion]).toEqual(['key-2']);
    const after = await issuers.findById(issuer.id);
    expect(after?.keyId).toBe('key-1');
    expect(after?.rotation).toBeUndefined();
  });

  it('lets one of concurrent rotations through: the others get 409 rotation_in_progress and make no key', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () => rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps())),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const refused of results.filter((r) => r.status === 'rejected')) {
      expect(refused.reason).toMatchObject({ kind: 'conflict', code: 'rotation_in_progress' });
    }
    expect(issuerKeyHistory((await issuers.findById(issuer.id))!)).toHaveLength(2);
    expect(keys.scheduledForDeletion.size).toBe(0);
  });

  it('takes over the lock of a rotation that crashed, once it is old enough, under an alias of its own', async () => {
    const crashed = await issuers.save({
      ...issuer,
      rotation: { startedAt: new Date(time).toISOString(), alias: `alias/elicence/issuer/${issuer.id}/2` },
    });
    await expect(rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps())).rejects.toMatchObject({
      code: 'rotation_in_progress',
    });
    time += rotationLockMs;
    const rotated = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    expect(rotated.rotation).toBeUndefined();
    expect(keys.aliases.get(rotated.keyId!)).toBe(
      `alias/elicence/issuer/${issuer.id}/2.${crashed.version + 1}`,
    );
  });

  it('refuses unknown (404) and withdrawn (409) issuers', async () => {
    await expect(
      rotateIssuerKey('iss_nobody', { previousKey: 'keep' }, context, deps()),
    ).rejects.toMatchObject({
      kind: 'not_found',
      code: 'issuer_not_found',
    });
    await withdrawIssuer(issuer.id, { reason: '机构撤并' }, context, deps());
    await expect(rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps())).rejects.toMatchObject({
      kind: 'conflict',
      code: 'issuer_not_active',
    });
  });
});

describe('withdrawing an issuer', () => {
  it('marks it withdrawn, once, and keeps it and its keys in the trust list', async () => {
    const withdrawn = await withdrawIssuer(issuer.id, { reason: '机构撤并' }, context, deps());
    expect(withdrawn).toMatchObject({
      status: 'withdrawn',
      withdrawalReason: '机构撤并',
      withdrawnAt: new Date(time).toISOString(),
    });
    expect(trustListIssuers([withdrawn])).toEqual([
      expect.objectContaining({
        id: issuer.id,
        status: 'withdrawn',
        jwks: { keys: [expect.objectContaining({ kid: issuer.kid })] },
      }),
    ]);
    await expect(withdrawIssuer(issuer.id, { reason: 'again' }, context, deps())).rejects.toMatchObject({
      kind: 'conflict',
      code: 'issuer_withdrawn',
    });
    expect(entries.map((entry) => entry.action)).toEqual(['issuer.withdrawn']);
    // Its OAuth client ended with it: no new token, and our API refuses the tokens it holds.
    expect(clients.clients.has('cl_rotating')).toBe(false);
  });
});

describe('withdrawing one key of an issuer (R20: a key found compromised after its rotation)', () => {
  it('takes a key retired earlier out of the trust list alone: the current key stays, and signs on', async () => {
    const first = issuer.kid!;
    time += 1000;
    const rotated = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    time += 1000;
    const withdrawn = await withdrawIssuerKey(issuer.id, first, { reason: '密钥泄露' }, context, deps());
    expect(kids(withdrawn)).toEqual([rotated.kid]);
    expect(trustListIssuers([withdrawn])[0]?.jwks.keys.map((jwk) => jwk.kid)).toEqual([rotated.kid]);
    expect(withdrawn).toMatchObject({ kid: rotated.kid, keyId: 'key-2', status: 'active' });
    expect(issuerKeyHistory(withdrawn)).toEqual([
      expect.objectContaining({
        kid: first,
        retiredAt: rotated.keys![0]!.retiredAt,
        withdrawnAt: expect.any(String),
      }),
      expect.not.objectContaining({ withdrawnAt: expect.anything() }),
    ]);
    // What it signed is what the issuer re-issues (GET /licences?keyWithdrawn=true).
    expect(withdrawnCredentialKids(withdrawn)).toEqual([first]);
    expect(entries.at(-1)).toMatchObject({
      action: 'issuer.key-withdrawn',
      actor: 'demo-admin',
      issuerId: issuer.id,
      reason: `kid ${first}: 密钥泄露`,
    });

    // Asked again (a retry): answered as it is, with no second entry.
    const again = await withdrawIssuerKey(issuer.id, first, { reason: '重试' }, context, deps());
    expect(again).toEqual(withdrawn);
    expect(entries.filter((entry) => entry.action === 'issuer.key-withdrawn')).toHaveLength(1);
  });

  it('refuses the current key (409 issuer_key_current: rotate it out), and a kid the issuer never had (404)', async () => {
    const current = withdrawIssuerKey(issuer.id, issuer.kid!, { reason: '泄露' }, context, deps());
    await expect(current).rejects.toMatchObject({ kind: 'conflict', code: 'issuer_key_current' });
    await expect(current).rejects.toThrow('"previousKey":"withdraw"');
    await expect(
      withdrawIssuerKey(issuer.id, 'nokid', { reason: 'x' }, context, deps()),
    ).rejects.toMatchObject({
      kind: 'not_found',
      code: 'issuer_key_not_found',
    });
    await expect(
      withdrawIssuerKey('iss_nobody', issuer.kid!, { reason: 'x' }, context, deps()),
    ).rejects.toMatchObject({
      kind: 'not_found',
      code: 'issuer_not_found',
    });
    expect(kids((await issuers.findById(issuer.id))!)).toEqual([issuer.kid]);
    expect(entries).toEqual([]);
  });

  it('waits for a rotation under way (409 rotation_in_progress), and refuses a withdrawn issuer (409)', async () => {
    const first = issuer.kid!;
    await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    const current = (await issuers.findById(issuer.id))!;
    await issuers.save({
      ...current,
      rotation: { startedAt: new Date(time).toISOString(), alias: 'alias/x' },
    });
    await expect(withdrawIssuerKey(issuer.id, first, { reason: 'x' }, context, deps())).rejects.toMatchObject(
      {
        kind: 'conflict',
        code: 'rotation_in_progress',
      },
    );
    time += rotationLockMs; // the rotation crashed: its lock lapsed
    expect(kids(await withdrawIssuerKey(issuer.id, first, { reason: 'x' }, context, deps()))).toEqual([
      current.kid,
    ]);
    await withdrawIssuer(issuer.id, { reason: '机构撤并' }, context, deps());
    await expect(
      withdrawIssuerKey(issuer.id, current.kid!, { reason: 'x' }, context, deps()),
    ).rejects.toMatchObject({
      kind: 'conflict',
      code: 'issuer_not_active',
    });
  });
});

describe('an issuer change whose audit entry fails to be written (R20)', () => {
  it('stands, and is traced all the same: the reconciler writes each entry, once, a minute later', async () => {
    const first = issuer.kid!;
    let kept: Issuer | undefined;
    let rotated: Issuer | undefined;
    let withdrawn: Issuer | undefined;
    const lines = await loggedLines(async () => {
      auditFailures = 1;
      kept = await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
      auditFailures = 1;
      time += 1000;
      await withdrawIssuerKey(issuer.id, first, { reason: '密钥泄露' }, context, deps());
      auditFailures = 1;
      time += 1000;
      rotated = await rotateIssuerKey(issuer.id, { previousKey: 'withdraw' }, context, deps());
      auditFailures = 1;
      time += 1000;
      withdrawn = await withdrawIssuer(issuer.id, { reason: '机构撤并' }, context, deps());
    });
    // Every change made and answered, none traced yet: each failure logged on the alarm's line.
    expect(kids(rotated!)).toEqual([rotated!.kid]);
    expect(withdrawn!.status).toBe('withdrawn');
    expect(entries).toEqual([]);
    expect(lines.filter((line) => line.includes('"audit entry not written"'))).toHaveLength(4);

    // Within the minute the requests had, the reconciler leaves them; a minute on, it writes them.
    expect(await reconcile()).toEqual({ completed: 0, failed: 0, skipped: 0 });
    time += 61_000;
    expect(await reconcile()).toEqual({ completed: 4, failed: 0, skipped: 0 });
    expect(entries.map(({ action, reason }) => [action, reason])).toEqual(
      expect.arrayContaining([
        ['issuer.key-rotated', `kid ${first} → ${kept!.kid}`],
        ['issuer.key-withdrawn', `kid ${first}: 密钥泄露`],
        ['issuer.key-rotated.previous-withdrawn', `kid ${kept!.kid} → ${rotated!.kid}`],
        ['issuer.withdrawn', '机构撤并'],
      ]),
    );
    expect(entries).toHaveLength(4);
    expect(await reconcile()).toEqual({ completed: 0, failed: 0, skipped: 0 });
    expect(entries).toHaveLength(4);
  });

  it('written at once, leaves nothing pending', async () => {
    await rotateIssuerKey(issuer.id, { previousKey: 'keep' }, context, deps());
    await withdrawIssuer(issuer.id, { reason: '机构撤并' }, context, deps());
    expect(entries.map((entry) => entry.action)).toEqual(['issuer.key-rotated', 'issuer.withdrawn']);
    expect(issuers.pendingAudit.pointers.size).toBe(0);
  });
});

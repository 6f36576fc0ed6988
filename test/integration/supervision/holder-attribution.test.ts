import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildDependencies, dependencies } from '../../../functions/composition/dependencies.js';
import { entryOf } from '../../../shared/adapters/dynamo/audit-trail.js';
import { indexKeys } from '../../../shared/adapters/dynamo/keys.js';
import { parseIdNumber } from '../../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../../shared/identifiers/lookup-key.js';
import { logger } from '../../../shared/logger.js';
import { holderCommitmentsReleased } from '../../../shared/config.js';
import { entryHash, holderCommitmentOf } from '../../../shared/supervision/audit-chain.js';
import { verifyAuditTrail } from '../../../shared/supervision/audit-chain-verify.js';
import { proveAccountInPerson } from '../../support/assurance.js';
import { postJson, scanItems } from '../../support/http-api.js';
import {
  adminToken,
  getWithToken,
  licencesToken,
  registerPlatform,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import { clientCredentialsToken, startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Security review L2: the holder an audit entry is filed under (its `holderKey`, and the gsi2 index key
 * that puts it in that holder's usage record, 用证记录) was outside the entry's hash, so whoever could
 * write the table could move a use of one person's licence into another's record, or out of the holder's,
 * with every chain still verifying. Each entry now carries a salted commitment to its holder inside its
 * hash (docs/supervision.md): these attacks edit the table behind the service's back and expect the usage
 * record to fail closed and `npm run audit:verify` to name the entry.
 */
let runtime: TestRuntime;
let wallet: RelyingParty;
let supervisor: { clientId: string; clientSecret: string };
let licence: { id: string; credential: string };
let citizenToken: string;
let attackerToken: string;
let citizenKey: string;
let attackerKey: string;
const today = new Date().toISOString().slice(0, 10);

interface UsageEntry {
  at: string;
  action: string;
  licenceId: string;
}

async function usage(token: string): Promise<UsageEntry[]> {
  const response = await getWithToken(runtime, '/me/usage?limit=100', token);
  expect(response.status, await response.clone().text()).toBe(200);
  return ((await response.json()) as { items: UsageEntry[] }).items;
}

async function verifyQr(qr: string): Promise<void> {
  const response = await fetch(`${runtime.baseUrl}/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ qr }),
  });
  expect(response.status).toBe(200);
}

const verifyTrail = () =>
  verifyAuditTrail({ base: runtime.baseUrl, ...supervisor, from: today, to: today, allowUnsigned: true });

const put = (item: Record<string, unknown>) =>
  dependencies().doc.send(new PutCommand({ TableName: dependencies().config.auditTableName, Item: item }));

/** Today's stored audit items that match `match`, newest last. */
async function auditItems(match: (item: Record<string, unknown>) => boolean) {
  return (await scanItems(`audit#${today}#`))
    .filter(match)
    .sort((a, b) => String(a.at).localeCompare(String(b.at)));
}

/** The stored item of the citizen's latest verification, after verifying their licence once more. */
async function freshVerification(): Promise<Record<string, unknown>> {
  await verifyQr(licence.credential);
  const items = await auditItems(
    (item) => item.action === 'licence.verified' && item.holderKey === citizenKey,
  );
  return items.at(-1)!;
}

const holderFault = (item: Record<string, unknown>) => ({
  chain: item.chain,
  seq: item.seq,
  problem: expect.stringContaining('does not match its holderCommitment'),
});

beforeAll(async () => {
  // No AUDIT_HOLDER_COMMITMENTS_SINCE: the compiled-in day (their release) applies (security review M2b).
  runtime = await startTestRuntime();
  const admin = await adminToken(runtime);
  wallet = await registerPlatform(runtime, admin, {
    name: 'Wallet',
    redirectUris: ['https://wallet.example/cb'],
    scopes: ['openid', 'profile', 'licences'],
    firstParty: true,
  });
  const registered = await postJson(runtime, '/admin/clients', admin, {
    name: '电子监察 supervising office',
    scopes: ['supervision'],
  });
  expect(registered.status).toBe(201);
  supervisor = (await registered.json()) as typeof supervisor;

  const { citizen } = runtime.credentials;
  citizenToken = await licencesToken(runtime, wallet, {
    username: citizen.idNumber,
    password: citizen.password,
  });
  const held = (await (await getWithToken(runtime, '/me/licences', citizenToken)).json()) as {
    items: Array<{ id: string; type: string; credential: string }>;
  };
  licence = held.items.find((one) => one.type === 'driving-licence')!;
  // The attacker: another person, proven in person, so that a driving licence's use would show to them.
  const attacker = runtime.credentials.people[0]!;
  const password = 'Holder-Attribution-2026';
  const made = await postJson(runtime, '/accounts', undefined, {
    consent: true,
    idNumber: attacker.idNumber,
    name: attacker.name,
    password,
  });
  expect(made.status, await made.clone().text()).toBe(201);
  await proveAccountInPerson(runtime, attacker.idNumber);
  attackerToken = await licencesToken(runtime, wallet, { username: attacker.idNumber, password });

  const { lookupMac } = buildDependencies(runtime.config);
  citizenKey = await personLookupKey(lookupMac, parseIdNumber(citizen.idNumber, new Date()));
  attackerKey = await personLookupKey(lookupMac, parseIdNumber(attacker.idNumber, new Date()));
}, 120_000);
afterAll(() => runtime?.close());

describe('the holder of an audit entry, bound by its hash (security review L2)', () => {
  it('stores a salted commitment beside the holder, and the trail verifies', async () => {
    const item = await freshVerification();
    expect(item.holderSalt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(item.holderCommitment).toMatch(/^[0-9a-f]{64}$/);
    expect(item.gsi2pk).toBe(indexKeys.auditHolder(citizenKey));
    expect((await verifyTrail()).faults).toEqual([]);
  });

  it('an entry re-filed under another holder (holderKey and gsi2pk rewritten): shown to nobody, named by audit verification', async () => {
    const original = await freshVerification();
    const mine = (await usage(citizenToken)).length;
    await put({ ...original, holderKey: attackerKey, gsi2pk: indexKeys.auditHolder(attackerKey) });
    const errors = vi.spyOn(logger, 'error');
    try {
      // The attacker's record does not show the citizen's licence as a genuine use of theirs.
      expect((await usage(attackerToken)).map((one) => one.licenceId)).not.toContain(licence.id);
      expect(errors).toHaveBeenCalledWith(
        expect.stringContaining('integrity'),
        expect.objectContaining({ chain: original.chain, seq: original.seq }),
      );
      // Logged by its place on its chain only: no holder's key.
      expect(JSON.stringify(errors.mock.calls)).not.toContain(citizenKey);
      expect(JSON.stringify(errors.mock.calls)).not.toContain(attackerKey);
      expect(await usage(citizenToken)).toHaveLength(mine - 1);
      const report = await verifyTrail();
      expect(report.ok).toBe(false);
      expect(report.faults).toContainEqual(holderFault(original));
      // What the supervisor reads: the finding, nothing of either holder.
      const supervision = await clientCredentialsToken(runtime, supervisor, 'supervision');
      const answer = await getWithToken(
        runtime,
        `/supervision/audit?licence=${encodeURIComponent(licence.id)}`,
        supervision,
      );
      const text = await answer.text();
      const entry = (JSON.parse(text) as { items: Array<Record<string, unknown>> }).items.find(
        (one) => one.chain === original.chain && one.seq === original.seq,
      );
      expect(entry).toMatchObject({
        holderAttribution: 'mismatch',
        holderCommitment: original.holderCommitment,
      });
      for (const secret of [
        citizenKey,
        attackerKey,
        String(original.holderSalt),
        'holderKey',
        'holderSalt',
      ]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      errors.mockRestore();
      await put(original);
    }
    expect(await usage(citizenToken)).toHaveLength(mine);
    expect((await verifyTrail()).faults).toEqual([]);
  });

  it('an entry re-filed with a commitment recomputed from its stored salt: shown to nobody (security review M2a)', async () => {
    const original = await freshVerification();
    const mine = (await usage(citizenToken)).length;
    // The salt is stored beside the commitment, so whoever writes the table can make a matching one for
    // another holder; only the entry's own hash, which covers the commitment, still tells.
    await put({
      ...original,
      holderKey: attackerKey,
      gsi2pk: indexKeys.auditHolder(attackerKey),
      holderCommitment: holderCommitmentOf(attackerKey, String(original.holderSalt)),
    });
    const errors = vi.spyOn(logger, 'error');
    try {
      expect((await usage(attackerToken)).map((one) => one.licenceId)).not.toContain(licence.id);
      expect(errors).toHaveBeenCalledWith(
        expect.stringContaining('integrity'),
        expect.objectContaining({ chain: original.chain, seq: original.seq }),
      );
      expect(await usage(citizenToken)).toHaveLength(mine - 1);
      const supervision = await clientCredentialsToken(runtime, supervisor, 'supervision');
      const answer = await getWithToken(
        runtime,
        `/supervision/audit?licence=${encodeURIComponent(licence.id)}`,
        supervision,
      );
      const entry = ((await answer.json()) as { items: Array<Record<string, unknown>> }).items.find(
        (one) => one.chain === original.chain && one.seq === original.seq,
      );
      expect(entry).toMatchObject({ holderAttribution: 'mismatch' });
      expect((await verifyTrail()).faults).toContainEqual(
        expect.objectContaining({ chain: original.chain, seq: original.seq }),
      );
    } finally {
      errors.mockRestore();
      await put(original);
    }
    expect(await usage(citizenToken)).toHaveLength(mine);
  });

  it('an entry hidden from its holder, or whose index alone moved: named by audit verification', async () => {
    const original = await freshVerification();
    const { gsi2pk: _pk, gsi2sk: _sk, ...unindexed } = original;
    const { holderKey: _key, ...unheld } = unindexed;
    for (const tampered of [
      unindexed,
      unheld,
      { ...original, gsi2pk: indexKeys.auditHolder(attackerKey) },
      { ...original, holderKey: attackerKey },
    ]) {
      await put(tampered);
      try {
        expect((await verifyTrail()).faults).toContainEqual(holderFault(original));
        expect((await usage(attackerToken)).map((one) => one.licenceId)).not.toContain(licence.id);
      } finally {
        await put(original);
      }
    }
    expect((await verifyTrail()).faults).toEqual([]);
  });

  it('an entry of nobody’s record filed under a holder: not shown to them, named by audit verification', async () => {
    // A share written through the trail with no holder (committed to none), then filed under the citizen.
    const { audit } = buildDependencies(runtime.config);
    await audit.record({
      at: new Date().toISOString(),
      actor: runtime.credentials.platform.clientId,
      action: 'licence.shared',
      licenceId: licence.id,
      licenceType: 'driving-licence',
      purpose: '一笔不存在的贷款',
    });
    const [original] = await auditItems((item) => item.purpose === '一笔不存在的贷款');
    expect(original).not.toHaveProperty('gsi2pk');
    const position = String(original!.gsi1sk);
    await put({
      ...original,
      holderKey: citizenKey,
      gsi2pk: indexKeys.auditHolder(citizenKey),
      gsi2sk: position,
    });
    try {
      expect((await usage(citizenToken)).map((one) => one.action)).not.toContain('shared');
      expect((await verifyTrail()).faults).toContainEqual(holderFault(original!));
      // Caught because an entry of nobody's record commits to that too.
      expect(original).toMatchObject({ holderCommitment: 'none' });
    } finally {
      await put(original!);
    }
  });

  it('an entry stripped of its commitment to pass as old, then re-filed: shown to nobody, named by audit verification', async () => {
    const original = await freshVerification();
    const { holderCommitment: _c, holderSalt: _s, ...stripped } = original;
    // An entry of a day every entry carries a commitment on, by the compiled-in default (no variable set
    // in this runtime): today, or the release day if today precedes it.
    const day = today > holderCommitmentsReleased ? today : holderCommitmentsReleased;
    const refiled = {
      ...stripped,
      at: `${day}${String(original.at).slice(10)}`,
      holderKey: attackerKey,
      gsi2pk: indexKeys.auditHolder(attackerKey),
    };
    // Its own hash recomputed, as a careful attacker would: only the link of the next entry, and the
    // service's finding (no commitment on a day every entry has one), give it away.
    await put({ ...refiled, hash: entryHash(entryOf(refiled)) });
    try {
      expect((await usage(attackerToken)).map((one) => one.licenceId)).not.toContain(licence.id);
      expect((await verifyTrail()).faults).toContainEqual(holderFault(original));
    } finally {
      await put(original);
    }
  });

  it('an entry written before commitments (no holderCommitment) still shows in its holder’s record', async () => {
    // A day before commitments were required (by the compiled-in default).
    const at = new Date(Date.parse(holderCommitmentsReleased) - 86_400_000 + 8 * 3_600_000).toISOString();
    const id = 'audit_beforecommitments0';
    const position = `${at}#${id}`;
    await put({
      pk: `audit#${at.slice(0, 10)}#3`,
      sk: position,
      gsi1pk: indexKeys.auditLicence(licence.id),
      gsi1sk: position,
      gsi2pk: indexKeys.auditHolder(citizenKey),
      gsi2sk: position,
      at,
      actor: 'anonymous',
      action: 'licence.verified',
      licenceId: licence.id,
      licenceType: 'driving-licence',
      verdict: 'valid',
      holderKey: citizenKey,
    });
    expect(await usage(citizenToken)).toContainEqual(
      expect.objectContaining({ at, action: 'verified', licenceId: licence.id }),
    );
  });
});

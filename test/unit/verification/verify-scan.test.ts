import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../../shared/crypto/compact-jws.js';
import { changeLicenceStatus } from '../../../shared/licence/change-status.js';
import { issueLicence, issueLicenceInput } from '../../../shared/licence/issue-licence.js';
import { issuerUrlOf, licenceCredentialType } from '../../../packages/verifier/src/claims.js';
import {
  createStatusBytes,
  encodeStatusList,
  StatusType,
  writeStatus,
} from '../../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../../packages/verifier/src/status-list-zlib.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import type { TrustListKey } from '../../../packages/verifier/src/trust-list.js';
import { verifyScan, type VerifyScanDependencies } from '../../../shared/verification/verify-scan.js';
import { createWorld, DAY, licenceId, NOW } from '../../support/verifier-world.js';
import { licenceWorld, type LicenceWorld } from '../../support/licence-world.js';
import { drivingLicenceBody, newIdNumber } from '../../support/licences.js';
import { switchablePeer } from '../../support/switchable-peer.js';

/** A government agency's credit code registered in Shanghai (310000), valid by GB 32100. */
const SH_CREDIT_CODE = '11310000000000027U';

const verifier = { clientId: 'cl_verifier' };

describe('verifyScan (POST /verify)', () => {
  let world: LicenceWorld;
  let issuer: Awaited<ReturnType<LicenceWorld['addIssuer']>>;
  let licence: LicenceRecord;
  beforeEach(async () => {
    world = licenceWorld();
    issuer = await world.addIssuer();
    ({ licence } = await issueLicence(
      issueLicenceInput.parse(drivingLicenceBody(newIdNumber())),
      { issuerId: issuer.id, clientId: 'cl_issuer', idempotencyKey: randomUUID() },
      world.issueDeps,
    ));
    world.audit.entries.length = 0;
  });

  const verify = (qr: string, caller?: { clientId: string }) =>
    verifyScan(qr, caller, { requestId: 'req-3' }, world.verifyDeps);

  it('finds a credential on record valid: anonymous callers see the name masked and no fields', async () => {
    const answer = await verify(licence.credential);
    expect(answer).toMatchObject({
      verdict: 'valid',
      reason: 'ok',
      format: 'credential',
      licence: {
        id: licence.id,
        type: 'driving-licence',
        holder: { kind: 'person', name: '李*试', masked: licence.holder.masked },
        validFrom: licence.validFrom,
      },
      issuer: { id: issuer.id, name: issuer.name, creditCode: issuer.creditCode },
    });
    expect(answer.licence?.fields).toBeUndefined();
    expect(world.audit.entries).toEqual([
      expect.objectContaining({
        actor: 'anonymous',
        action: 'licence.verified',
        licenceId: licence.id,
        issuerId: issuer.id,
        verdict: 'valid',
        requestId: 'req-3',
        // The usage record (用证记录): the type, and whose it is by the record's lookup key (never answered).
        licenceType: 'driving-licence',
        holderKey: licence.holder.lookupKey,
      }),
    ]);
    // Nothing about the holder goes into the audit trail.
    expect(JSON.stringify(world.audit.entries)).not.toContain(licence.holder.masked);
  });

  it('shows a verifier client the name and the disclosed fields', async () => {
    const answer = await verify(licence.credential, verifier);
    expect(answer.verdict).toBe('valid');
    expect(answer.licence?.holder.name).toBe('李测试');
    expect(answer.licence?.fields).toMatchObject({ vehicleClass: 'C1' });
    expect(world.audit.entries[0]?.actor).toBe('cl_verifier');
  });

  it('answers the status on record at once: suspended, then revoked', async () => {
    const change = (status: 'suspended' | 'revoked') =>
      changeLicenceStatus(
        licence.id,
        { status, reason: '测试' },
        { issuerId: issuer.id, clientId: 'cl_issuer' },
        world.statusDeps,
      );
    await change('suspended');
    expect(await verify(licence.credential)).toMatchObject({
      verdict: 'suspended',
      reason: 'status_suspended',
    });
    await change('revoked');
    expect(await verify(licence.credential)).toMatchObject({ verdict: 'revoked', reason: 'status_revoked' });
  });

  it('does not trust a signer the issuer store does not know (unknown_issuer), and discloses nothing', async () => {
    world.issuers.byCreditCode.delete(issuer.creditCode);
    const answer = await verify(licence.credential, verifier);
    expect(answer.verdict).toBe('unknown_issuer');
    expect(answer.licence).toBeUndefined();
    expect(answer.issuer).toBeUndefined();
    expect(world.audit.entries[0]).not.toHaveProperty('licenceId');
  });

  it('fails closed on a validly signed credential that is not the one on record', async () => {
    // The issuer's own key signs the same claims again: a second credential for one licence id.
    const twin = await signCompactJws(
      { typ: licenceCredentialType },
      decodeJwt(licence.credential),
      issuer.signer,
    );
    expect(twin).not.toBe(licence.credential);
    const answer = await verify(twin, verifier);
    expect(answer).toMatchObject({ verdict: 'unknown_issuer', reason: 'record_mismatch' });
    expect(answer.licence).toBeUndefined();

    world.licences.byId.delete(licence.id);
    expect(await verify(licence.credential)).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'licence_not_on_record',
    });
    // Neither is anybody's use of a licence: no holder's usage record gets them.
    expect(world.audit.entries.map((entry) => entry.holderKey)).toEqual([undefined, undefined]);
  });

  it('refuses a changed signature and what is not a credential, without naming a licence', async () => {
    const [header, payload, signature] = licence.credential.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect((await verify(`${header}.${payload}.${flipped}`)).verdict).toBe('invalid_signature');
    const malformed = await verify('hello, verifier');
    expect(malformed.verdict).toBe('malformed');
    expect(malformed.licence).toBeUndefined();
    expect(world.audit.entries.map((entry) => entry.licenceId)).toEqual([undefined, undefined]);
  });
});

/**
 * A peer platform's licence (跨地区互认, docs/peers.md) has no record here: its status comes from the
 * peer's status list. When no copy of that list can be had, `POST /verify` has no honest verdict: the
 * library says `unknown`, which is not one of API.md's eight, so the call fails (502 `peer_unreachable`)
 * and nothing is audited, rather than answering `valid` (as it did before).
 */
describe('verifyScan (POST /verify), a peer’s licence whose status list cannot be had', () => {
  /** A peer platform at `baseUrl` naming one issuer, and our dependencies trusting it; `at.now` moves. */
  async function peerAt(baseUrl: string, at: { now: number }) {
    const world = licenceWorld();
    const peerWorld = await createWorld();
    const now = at.now;
    const trustList = {
      iss: 'https://peer.test',
      iat: NOW - 60,
      exp: NOW + 7 * DAY,
      ttl: 3600,
      issuers: [
        {
          id: peerWorld.issuer.id,
          name: peerWorld.issuer.name,
          // Registered in Shanghai (its characters 3 to 8), as a peer of 310000's issuer must be.
          creditCode: SH_CREDIT_CODE,
          region: '310000',
          status: 'active' as const,
          jwks: { keys: peerWorld.issuer.keys as TrustListKey[] },
          licenceTypes: [...peerWorld.issuer.licenceTypes],
          statusLists: 1,
        },
      ],
    };
    const jws = await signCompactJws({ typ: 'trust-list+jwt' }, trustList, peerWorld.platformSigner);
    const peer: PeerRecord = {
      id: 'peer_sh',
      name: 'Shanghai',
      region: '310000',
      baseUrl,
      jwks: { keys: peerWorld.trust.platform },
      createdAt: new Date(now - DAY * 1000).toISOString(),
      fetchedAt: new Date(now - 60_000).toISOString(),
      trustList: { jws, iat: trustList.iat, exp: trustList.exp },
      issuers: trustList.issuers.map((issuer) => ({ ...issuer, peer: 'peer_sh', statusBase: baseUrl })),
      version: 1,
    };
    const deps: VerifyScanDependencies = {
      ...world.verifyDeps,
      clock: { now: () => at.now },
      peers: { list: () => Promise.resolve([peer]) },
      config: {
        issuerCacheSeconds: 0,
        platformRegion: '110000',
        peers: { staleSeconds: 3600, maxAgeSeconds: 86_400, fetchTimeoutMs: 1000 },
      },
    };
    const listUri = `${baseUrl}/status-lists/${peerWorld.issuer.id}.0`;
    const credential = (idx: number) =>
      peerWorld.credential({
        claims: {
          // Named by the peer's own URL, as the peer's credentials are.
          iss: issuerUrlOf(baseUrl, peerWorld.issuer.id),
          jti: licenceId(7, SH_CREDIT_CODE),
          status: { status_list: { idx, uri: listUri } },
        },
      });
    /** The peer's status list token for `statuses`, signed by its issuer at `iat`, valid until `exp` (ttl 300). */
    const listToken = async (statuses: Uint8Array, exp: number, iat = NOW - 30) =>
      signCompactJws(
        { typ: 'statuslist+jwt' },
        {
          iss: peerWorld.issuer.id,
          sub: listUri,
          iat,
          exp,
          ttl: 300,
          status_list: await encodeStatusList(statuses, zlibCompression),
        },
        peerWorld.issuerSigner,
      );
    return { world, deps, credential, listToken };
  }

  it('fails with peer_unreachable, never valid, and records no verdict', async () => {
    // Nothing listens on port 9 (discard): the peer is down, and no copy of its list is held.
    const { world, deps, credential } = await peerAt('http://127.0.0.1:9', { now: NOW * 1000 });
    await expect(verifyScan(await credential(7), undefined, {}, deps)).rejects.toMatchObject({
      kind: 'dependency_failed',
      code: 'peer_unreachable',
    });
    expect(world.audit.entries).toEqual([]);
  });

  it('answers revoked from the peer’s list held past its exp (revocation is final); its suspended is 502', async () => {
    const statuses = createStatusBytes(64);
    writeStatus(statuses, 7, StatusType.INVALID);
    writeStatus(statuses, 8, StatusType.SUSPENDED);
    const peer = await switchablePeer();
    try {
      const at = { now: NOW * 1000 };
      const { world, deps, credential, listToken } = await peerAt(peer.baseUrl, at);
      peer.serve(await listToken(statuses, NOW + 600)); // ten minutes
      expect((await verifyScan(await credential(7), undefined, {}, deps)).verdict).toBe('revoked');
      expect((await verifyScan(await credential(8), undefined, {}, deps)).verdict).toBe('suspended');

      // Twenty minutes on, the peer down: the list held is past its exp (the peer's copy is not stale yet).
      // The peer now has a fresh list, so only its being down can leave the verifier with the old one.
      at.now += 20 * 60_000;
      peer.serve(await listToken(statuses, NOW + 20 * 60 + 600, NOW + 20 * 60 - 30));
      peer.down(true);
      world.audit.entries.length = 0;
      const revoked = await verifyScan(await credential(7), undefined, {}, deps);
      expect(revoked).toMatchObject({ verdict: 'revoked', reason: 'status_revoked', stale: true });
      expect(world.audit.entries).toHaveLength(1);
      // A suspension may have been lifted since: no honest verdict, as with no list at all.
      await expect(verifyScan(await credential(8), undefined, {}, deps)).rejects.toMatchObject({
        kind: 'dependency_failed',
        code: 'peer_unreachable',
      });
      expect(world.audit.entries).toHaveLength(1);
    } finally {
      await peer.close();
    }
  });

  it('says stale when the peer is down and its list held is past its ttl, not yet its exp', async () => {
    const statuses = createStatusBytes(64);
    writeStatus(statuses, 8, StatusType.SUSPENDED);
    const peer = await switchablePeer();
    try {
      const at = { now: NOW * 1000 };
      const { deps, credential, listToken } = await peerAt(peer.baseUrl, at);
      peer.serve(await listToken(statuses, NOW + 3600));
      const fresh = await verifyScan(await credential(7), undefined, {}, deps);
      expect(fresh.verdict).toBe('valid');
      expect(fresh.stale).toBeUndefined();

      // Ten minutes on, the peer down: the list held is past its ttl (not its exp), the peer's copy fresh.
      // The peer now has a fresh list, so only its being down can leave the verifier with the old one.
      at.now += 10 * 60_000;
      peer.serve(await listToken(statuses, NOW + 10 * 60 + 3600, NOW + 10 * 60 - 30));
      peer.down(true);
      const valid = await verifyScan(await credential(7), undefined, {}, deps);
      expect(valid).toMatchObject({ verdict: 'valid', stale: true });
      const suspended = await verifyScan(await credential(8), undefined, {}, deps);
      expect(suspended).toMatchObject({ verdict: 'suspended', stale: true });
    } finally {
      await peer.close();
    }
  });
});

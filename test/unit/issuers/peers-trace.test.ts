import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { registerPeer, removePeer } from '../../../shared/issuers/peers.js';
import { FailingAudit } from '../../support/in-memory-identity.js';
import { InMemoryPeerStore } from '../../support/in-memory-peers.js';
import { reconcileCarriedAt } from '../../support/reconcile-carried.js';

/*
 * A peer platform registered or removed by an operator and its trace are one: the peer's own write saves
 * its entry as pending work (`peer-changed#<peer id>#registered|removed`). An audit write that failed after
 * the change used to answer 5xx with the peer trusted (or dropped) and no entry; now the change stands,
 * is answered, and the reconciler writes the entry a minute later.
 */

const now = Date.parse('2026-12-07T10:00:00Z');
const baseUrl = 'https://peer.example.gov.cn';
const operator = { clientId: 'cl_operator', requestId: 'req-1' };

/** A peer platform whose trust list (no issuers) its own key signs, served by a fake fetch. */
async function peerPlatform() {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'peer-1' };
  const iat = Math.floor(now / 1000) - 60;
  const jws = await new SignJWT({ issuers: [], ttl: 3600 })
    .setProtectedHeader({ alg: 'ES256', typ: 'trust-list+jwt', kid: 'peer-1' })
    .setIssuer(baseUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 604_800)
    .sign(privateKey);
  const fetch = (async () => new Response(jws, { status: 200 })) as typeof globalThis.fetch;
  return { jwks: { keys: [jwk] }, fetch };
}

function world(fetch: typeof globalThis.fetch) {
  const peers = new InMemoryPeerStore();
  const audit = new FailingAudit();
  return {
    peers,
    operatorAudit: peers.pendingAudit,
    issuers: { listAll: async () => [] },
    audit,
    clock: { now: () => now },
    config: {
      issuerUrl: 'https://elicence.example.gov.cn',
      platformRegion: '110000',
      peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
    },
    fetch,
  };
}

describe('a peer registered or removed whose audit entry fails to be written', () => {
  it('stands and is answered; the reconciler’s run writes each entry, once, a minute later', async () => {
    const platform = await peerPlatform();
    const deps = world(platform.fetch);
    deps.audit.failures = 1;
    const input = { name: '上海平台', region: '310000', baseUrl, jwks: platform.jwks as never };
    const { id } = await registerPeer(input, operator, deps);
    expect(await deps.peers.get(id)).toMatchObject({ id, baseUrl });
    expect(deps.audit.entries).toEqual([]);

    deps.audit.failures = 1;
    await removePeer(id, operator, deps);
    expect(await deps.peers.get(id)).toBeUndefined();
    expect(deps.audit.entries).toEqual([]);

    await reconcileCarriedAt(now + 120_000, { operatorAudit: deps.operatorAudit }, deps.audit);
    await reconcileCarriedAt(now + 240_000, { operatorAudit: deps.operatorAudit }, deps.audit);
    const entries = deps.audit.entries.map(({ action, peerId, actor }) => ({ action, peerId, actor }));
    expect(entries.sort((a, b) => a.action.localeCompare(b.action))).toEqual([
      { action: 'peer.registered', peerId: id, actor: 'cl_operator' },
      { action: 'peer.removed', peerId: id, actor: 'cl_operator' },
    ]);
    // Removed already: 404, and no second trace.
    await expect(removePeer(id, operator, deps)).rejects.toMatchObject({ code: 'peer_not_found' });
    expect(await deps.operatorAudit.olderThan(new Date(now + 600_000), 10)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import type { TrustListIssuer } from '../../../packages/verifier/src/trust-list.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import {
  acceptPeerIssuers,
  peerStatus,
  peerTrustListIssuers,
  withinRegion,
} from '../../../shared/issuers/peers.js';

const key = {
  kty: 'EC' as const,
  crv: 'P-256' as const,
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'k1',
};
const entry = (id: string, creditCode: string, region = '310000', extra: Partial<TrustListIssuer> = {}) =>
  ({
    id,
    name: id,
    creditCode,
    region,
    status: 'active',
    jwks: { keys: [key] },
    ...extra,
  }) as TrustListIssuer;
const settings = {
  platformRegion: '110000',
  peers: { staleSeconds: 86_400, maxAgeSeconds: 604_800, fetchTimeoutMs: 5000 },
};
const peerB = { id: 'peer_b', region: '310000', baseUrl: 'https://b.example.gov.cn' };

describe('withinRegion', () => {
  it('reads trailing 00 pairs of the area as its wildcard', () => {
    expect(withinRegion('310104', '310000')).toBe(true);
    expect(withinRegion('310000', '310000')).toBe(true);
    expect(withinRegion('110105', '310000')).toBe(false);
    expect(withinRegion('310104', '310100')).toBe(true);
    expect(withinRegion('310204', '310100')).toBe(false);
  });
});

describe('acceptPeerIssuers', () => {
  it('takes the peer’s own active issuers in its region, marked, and drops every other kind', () => {
    const { accepted, dropped } = acceptPeerIssuers(
      [
        entry('iss_ok', 'CC_OK', '310104'),
        entry('iss_ours', 'CC_1'),
        entry('iss_cc', 'CC_OURS'),
        entry('iss_home', 'CC_2', '110105'),
        entry('iss_far', 'CC_3', '440000'),
        entry('iss_via', 'CC_4', '310000', { peer: 'peer_c' }),
        entry('iss_gone', 'CC_5', '310000', { status: 'withdrawn' }),
        entry('iss_ok', 'CC_6'),
        entry('iss_twin', 'CC_OK'),
      ],
      peerB,
      '110000',
      { ids: new Set(['iss_ours']), creditCodes: new Set(['CC_OURS']) },
    );
    expect(accepted).toEqual([
      { ...entry('iss_ok', 'CC_OK', '310104'), peer: 'peer_b', statusBase: 'https://b.example.gov.cn' },
    ]);
    expect(Object.fromEntries(dropped.map((d, i) => [`${i}:${d.id}`, d.reason]))).toEqual({
      '0:iss_ours': 'issuer_id_taken',
      '1:iss_cc': 'credit_code_taken',
      '2:iss_home': 'claims_our_region',
      '3:iss_far': 'outside_peer_region',
      '4:iss_via': 'listed_by_peer_from_another_platform',
      '5:iss_gone': 'not_active',
      '6:iss_ok': 'issuer_id_taken',
      '7:iss_twin': 'credit_code_taken',
    });
  });
});

describe('peerTrustListIssuers', () => {
  const now = Date.parse('2026-12-05T00:00:00Z');
  const record = (id: string, fetchedAt: string, issuers: PeerRecord['issuers'], createdAt = fetchedAt) =>
    ({
      id,
      name: id,
      region: '310000',
      baseUrl: `https://${id}.example.gov.cn`,
      jwks: { keys: [key] },
      createdAt,
      fetchedAt,
      trustList: { jws: 'x', iat: now / 1000 - 60, exp: now / 1000 + 86_400 },
      issuers,
      version: 1,
    }) satisfies PeerRecord;
  const accepted = (id: string, creditCode: string, peer: string) => ({
    ...entry(id, creditCode),
    peer,
    statusBase: `https://${peer}.example.gov.cn`,
  });

  it('lists usable peers’ issuers; a copy past the hard maximum age is dropped (fail closed)', () => {
    const fresh = record('peer_b', '2026-12-04T12:00:00Z', [accepted('iss_b', 'CC_B', 'peer_b')]);
    const old = record('peer_c', '2026-11-27T00:00:00Z', [accepted('iss_c', 'CC_C', 'peer_c')]);
    const listed = peerTrustListIssuers([fresh, old], [], now, settings);
    expect(listed.map((e) => [e.id, e.peer, e.peerFetchedAt])).toEqual([
      ['iss_b', 'peer_b', '2026-12-04T12:00:00Z'],
    ]);
    expect(peerStatus(fresh, now, settings)).toBe('ok');
    expect(peerStatus(old, now, { ...settings, peers: { ...settings.peers, staleSeconds: 3600 } })).toBe(
      'stale',
    );
  });

  it('lets our issuers and an earlier peer win a clash of id or credit code', () => {
    const first = record(
      'peer_b',
      '2026-12-04T12:00:00Z',
      [accepted('iss_x', 'CC_X', 'peer_b')],
      '2026-01-01T00:00:00Z',
    );
    const later = record(
      'peer_d',
      '2026-12-04T12:00:00Z',
      [
        accepted('iss_y', 'CC_X', 'peer_d'),
        accepted('iss_ours', 'CC_Z', 'peer_d'),
        accepted('iss_z', 'CC_Z2', 'peer_d'),
      ],
      '2026-02-01T00:00:00Z',
    );
    const listed = peerTrustListIssuers(
      [later, first],
      [{ id: 'iss_ours', creditCode: 'CC_OURS' }],
      now,
      settings,
    );
    expect(listed.map((e) => e.id)).toEqual(['iss_x', 'iss_z']);
  });
});

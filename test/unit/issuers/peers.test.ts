import { describe, expect, it } from 'vitest';
import type { TrustListIssuer } from '../../../packages/verifier/src/trust-list.js';
import type { PeerRecord } from '../../../shared/issuers/peer-store.js';
import {
  creditCodeCheckCharacter,
  organisationCodeCheckCharacter,
} from '../../../shared/identifiers/credit-code.js';
import {
  acceptPeerIssuers,
  creditCodeDivision,
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
/** A valid government-agency credit code registered in `region` (GB 32100), the `n`th of the test. */
function code(region: string, n: number): string {
  const body = String(n).padStart(8, '0');
  const first17 = `11${region}${body}${organisationCodeCheckCharacter(body)}`;
  return `${first17}${creditCodeCheckCharacter(first17)}`;
}
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

describe('creditCodeDivision', () => {
  it('reads characters 3 to 8 of a valid credit code, nothing of anything else', () => {
    expect(creditCodeDivision(code('330100', 1))).toBe('330100');
    expect(creditCodeDivision(code('330100', 1).toLowerCase())).toBeUndefined();
    expect(creditCodeDivision('CC_1')).toBeUndefined();
    expect(creditCodeDivision(`${code('330100', 1).slice(0, 17)}0`)).toBeUndefined();
  });
});

describe('acceptPeerIssuers', () => {
  it('takes the peer’s own active issuers in its region, marked, and drops every other kind', () => {
    const ok = code('310104', 1);
    const ours = code('310000', 2);
    const { accepted, dropped, collisions } = acceptPeerIssuers(
      [
        entry('iss_ok', ok, '310104'),
        entry('iss_ours', code('310000', 3)),
        entry('iss_cc', ours),
        entry('iss_home', code('110000', 4), '110105'),
        entry('iss_far', code('440000', 5), '440000'),
        entry('iss_via', code('310000', 6), '310000', { peer: 'peer_c' }),
        entry('iss_gone', code('310000', 7), '310000', { status: 'withdrawn' }),
        entry('iss_ok', code('310000', 8)),
        entry('iss_twin', ok),
        entry('iss_bad_cc', 'CC_9'),
        // Its region says Shanghai, its credit code was registered in Zhejiang (R23 H2).
        entry('iss_squat', code('330000', 10), '310000'),
        // A URL of its own is not taken: where its credentials come from is the peer's base URL.
        entry('iss_url', code('310000', 11), '310000', {
          issuerUrl: 'https://elsewhere.example/issuers/iss_url',
        }),
      ],
      peerB,
      '110000',
      { ids: new Set(['iss_ours']), creditCodes: new Set([ours]) },
    );
    expect(accepted).toEqual([
      { ...entry('iss_ok', ok, '310104'), peer: 'peer_b', statusBase: 'https://b.example.gov.cn' },
      { ...entry('iss_url', code('310000', 11)), peer: 'peer_b', statusBase: 'https://b.example.gov.cn' },
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
      '8:iss_bad_cc': 'credit_code_invalid',
      '9:iss_squat': 'credit_code_outside_peer_region',
    });
    expect(collisions).toEqual([]);
  });

  it('accepts but reports an entry another peer also lists (by id or credit code): a collision', () => {
    const other = {
      id: 'peer_d',
      issuers: [
        { ...entry('iss_x', code('320000', 1), '320000'), peer: 'peer_d', statusBase: 'https://d.example' },
        { ...entry('iss_y', code('310000', 2), '320000'), peer: 'peer_d', statusBase: 'https://d.example' },
      ],
    };
    const { accepted, collisions } = acceptPeerIssuers(
      [
        entry('iss_x', code('310000', 3)),
        entry('iss_z', code('310000', 2)),
        entry('iss_w', code('310000', 4)),
      ],
      peerB,
      '110000',
      { ids: new Set(), creditCodes: new Set() },
      [other],
    );
    expect(accepted.map((e) => e.id)).toEqual(['iss_x', 'iss_z', 'iss_w']);
    expect(collisions).toEqual([
      { id: 'iss_x', creditCode: code('310000', 3), with: 'peer_d' },
      { id: 'iss_z', creditCode: code('310000', 2), with: 'peer_d' },
    ]);
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

  it('lists usable peers’ issuers, each with its peer’s URL; a copy past the hard maximum age is dropped (fail closed)', () => {
    const fresh = record('peer_b', '2026-12-04T12:00:00Z', [accepted('iss_b', code('310000', 1), 'peer_b')]);
    const old = record('peer_c', '2026-11-27T00:00:00Z', [accepted('iss_c', code('310000', 2), 'peer_c')]);
    const listed = peerTrustListIssuers([fresh, old], [], now, settings);
    expect(listed.map((e) => [e.id, e.peer, e.peerFetchedAt, e.issuerUrl])).toEqual([
      ['iss_b', 'peer_b', '2026-12-04T12:00:00Z', 'https://peer_b.example.gov.cn/issuers/iss_b'],
    ]);
    expect(peerStatus(fresh, now, settings)).toBe('ok');
    expect(peerStatus(old, now, { ...settings, peers: { ...settings.peers, staleSeconds: 3600 } })).toBe(
      'stale',
    );
  });

  it('lets our issuers win a clash; two peers naming one id or credit code lose it both (no first-come)', () => {
    const shared = code('310000', 1);
    const first = record(
      'peer_b',
      '2026-12-04T12:00:00Z',
      [accepted('iss_x', shared, 'peer_b'), accepted('iss_v', code('310000', 5), 'peer_b')],
      '2026-01-01T00:00:00Z',
    );
    const later = record(
      'peer_d',
      '2026-12-04T12:00:00Z',
      [
        accepted('iss_y', shared, 'peer_d'),
        accepted('iss_ours', code('310000', 2), 'peer_d'),
        accepted('iss_z', code('310000', 3), 'peer_d'),
        accepted('iss_v', code('310000', 6), 'peer_d'),
      ],
      '2026-02-01T00:00:00Z',
    );
    const listed = peerTrustListIssuers(
      [later, first],
      [{ id: 'iss_ours', creditCode: code('310000', 4) }],
      now,
      settings,
    );
    expect(listed.map((e) => e.id)).toEqual(['iss_z']);
    // Once the other is gone, each is listed again.
    expect(peerTrustListIssuers([first], [], now, settings).map((e) => e.id)).toEqual(['iss_x', 'iss_v']);
  });

  it('leaves out an entry stored before the credit-code check whose code is of another region (R23 H2)', () => {
    const squatter = record('peer_p', '2026-12-04T12:00:00Z', [
      accepted('iss_q', code('330000', 1), 'peer_p'),
    ]);
    expect(peerTrustListIssuers([squatter], [], now, settings)).toEqual([]);
  });
});

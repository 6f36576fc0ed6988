import { describe, expect, it } from 'vitest';
import { credentialKeyPublished, issuerPublishedKeys } from '../../../shared/issuers/credential-key.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';

/** A compact JWS with this protected header (payload and signature do not matter here). */
const jwsWith = (header: Record<string, unknown>) =>
  `${Buffer.from(JSON.stringify({ alg: 'ES256', ...header })).toString('base64url')}.e30.c2ln`;

const issuer = (
  keys: { kid: string; withdrawnAt?: string }[],
  batchKeys: Issuer['batchKeys'] = [],
): Issuer => ({
  id: 'iss_1',
  name: '测试发证机关',
  creditCode: '11310000MA1K3C4P5X',
  region: '310000',
  licenceTypes: ['driving-licence'],
  status: 'active',
  keyId: 'kms-current',
  kid: keys.at(-1)!.kid,
  publicJwk: { kty: 'EC', kid: keys.at(-1)!.kid },
  keys: keys.map((key) => ({
    ...key,
    keyId: `kms-${key.kid}`,
    publicJwk: { kty: 'EC', kid: key.kid },
    createdAt: '2026-01-01T00:00:00.000Z',
  })),
  batchKeys,
  createdAt: '2026-01-01T00:00:00.000Z',
  version: 1,
});

describe('credentialKeyPublished: whether a licence’s QR code still verifies with a published key', () => {
  it('an issuer key that stands: yes; one withdrawn after a compromise: no', () => {
    const record = issuer([{ kid: 'old', withdrawnAt: '2026-06-01T00:00:00.000Z' }, { kid: 'new' }]);
    expect(credentialKeyPublished(jwsWith({ kid: 'new' }), issuerPublishedKeys(record))).toBe(true);
    expect(credentialKeyPublished(jwsWith({ kid: 'old' }), issuerPublishedKeys(record))).toBe(false);
    expect(credentialKeyPublished(jwsWith({ kid: 'other' }), issuerPublishedKeys(record))).toBe(false);
  });

  it('an issuer that never rotated: its one key', () => {
    const { keys: _keys, ...single } = issuer([{ kid: 'only' }]);
    expect(credentialKeyPublished(jwsWith({ kid: 'only' }), issuerPublishedKeys(single))).toBe(true);
  });

  it('a batch key stands only while the issuer key that certified it does', () => {
    const batch = {
      kid: 'batch-1',
      publicJwk: { kty: 'EC' },
      nbf: 0,
      exp: 1,
      certificate: jwsWith({ kid: 'old' }),
    };
    const standing = issuer([{ kid: 'old' }, { kid: 'new' }], [batch]);
    const withdrawn = issuer(
      [{ kid: 'old', withdrawnAt: '2026-06-01T00:00:00.000Z' }, { kid: 'new' }],
      [batch],
    );
    expect(credentialKeyPublished(jwsWith({ kid: 'batch-1' }), issuerPublishedKeys(standing))).toBe(true);
    expect(credentialKeyPublished(jwsWith({ kid: 'batch-1' }), issuerPublishedKeys(withdrawn))).toBe(false);
  });

  it('reads the trust list’s view too (keys as JWKs with their kid)', () => {
    expect(credentialKeyPublished(jwsWith({ kid: 'a' }), { keys: [{ kid: 'a' }] })).toBe(true);
    expect(credentialKeyPublished(jwsWith({ kid: 'a' }), { keys: [] })).toBe(false);
  });

  it('fails closed on anything unreadable', () => {
    const keys = { keys: [{ kid: 'a' }] };
    for (const text of ['', 'garbage', '.e30.c2ln', '!!!.e30.c2ln', jwsWith({}), jwsWith({ kid: 7 })]) {
      expect(credentialKeyPublished(text, keys), text).toBe(false);
    }
  });
});

import QRCode from 'qrcode';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditTrail } from '../../../shared/audit/audit-trail.js';
import type { Issuer } from '../../../shared/issuers/issuer.js';
import type { LicenceRecord } from '../../../shared/licence/licence.js';
import { createPresentation } from '../../../shared/licence/presentation.js';
import { base45Decode } from '../../../packages/verifier/src/base45.js';
import { decodeCbor, encodeCbor } from '../../../packages/verifier/src/cbor.js';
import { nodeEs256 } from '../../../packages/verifier/src/node.js';
import { coseSigStructure } from '../../../packages/verifier/src/cose.js';
import {
  presentationPrefix,
  presentationProtectedHeader,
  presentationText,
  readPresentationClaims,
  readPresentationEnvelope,
} from '../../../packages/verifier/src/presentation-format.js';
import { createVerifier } from '../../../packages/verifier/src/verifier.js';
import type { PublicJwk } from '../../../packages/verifier/src/crypto.js';
import { LocalSigner } from '../../support/local-signer.js';
import { createWorld, ISSUER_CREDIT_CODE, licenceId, NOW, type World } from '../../support/verifier-world.js';

class FakeAudit implements AuditTrail {
  readonly entries: AuditEntry[] = [];
  async record(entry: AuditEntry) {
    this.entries.push(entry);
  }
}

let world: World;
let audit: FakeAudit;
let licence: LicenceRecord;
/** The presentation key: the trust list names it, never the platform key (review R7 M1). */
let presentationSigner: LocalSigner;

/** The licence's issuer as its record says: active, its key (the one that signed the credential) published. */
let issuer: Issuer;

function deps() {
  return {
    licences: { get: async (id: string) => (id === licence.id ? licence : undefined) },
    issuers: { findById: async (id: string) => (id === issuer.id ? issuer : undefined) },
    presentationSigner,
    audit,
    clock: { now: () => NOW * 1000 },
  };
}
const holder = { holderLookupKeys: ['bG9va3VwLWtleQ'], level: 3 as const, actor: 'acct_test' };

beforeEach(async () => {
  world = await createWorld();
  presentationSigner = new LocalSigner();
  world.trust.presentation = [(await presentationSigner.publicJwk()) as PublicJwk];
  audit = new FakeAudit();
  const issuerJwk = world.issuer.keys[0]!;
  issuer = {
    id: world.issuer.id,
    name: world.issuer.name,
    creditCode: world.issuer.creditCode,
    region: '110000',
    licenceTypes: ['business-licence'],
    status: 'active',
    keyId: 'alias/issuer-test',
    kid: issuerJwk.kid!,
    publicJwk: issuerJwk,
    createdAt: new Date((NOW - 90 * 86_400) * 1000).toISOString(),
    version: 1,
  };
  licence = {
    id: licenceId(7, ISSUER_CREDIT_CODE, '001'),
    type: 'business-licence',
    issuerId: world.issuer.id,
    holder: {
      kind: 'entity',
      name: '北京示范科技有限公司',
      masked: '91110105MA01DEM078',
      lookupKey: 'bG9va3VwLWtleQ',
    },
    fields: {
      entityType: '有限责任公司',
      legalRepresentativeName: '王小明',
      legalRepresentativeIdMasked: '110105********1239',
      legalRepresentativeLookupKey: 'c2VjcmV0LWtleQ',
      registeredCapital: { amount: 1_000_000.5, currency: 'CNY' },
      establishedOn: '2018-03-15',
    },
    status: 'valid',
    statusList: { listId: `${world.issuer.id}.0`, idx: 7 },
    issuedAt: new Date((NOW - 86_400) * 1000).toISOString(),
    validFrom: new Date((NOW - 86_400) * 1000).toISOString(),
    credential: await world.credential(),
    history: [],
    version: 1,
  };
});

describe('createPresentation', () => {
  it('signs a short-lived presentation with the presentation key, showing only the chosen fields', async () => {
    const created = await createPresentation(
      licence.id,
      { disclose: ['legalRepresentativeName', 'registeredCapital'], ttlSeconds: 120 },
      holder,
      deps(),
    );
    expect(created).toMatchObject({
      token: expect.stringMatching(/^EL1:[0-9A-Z $%*+\-./:]+$/),
      id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
      issuedAt: new Date(NOW * 1000).toISOString(),
      expiresAt: new Date((NOW + 120) * 1000).toISOString(),
      disclosed: ['legalRepresentativeName', 'registeredCapital'],
    });
    const { claims } = readPresentationClaims(readPresentationEnvelope(created.token).payload);
    expect(claims.licence).toEqual({
      id: licence.id,
      type: 'business-licence',
      holder: { kind: 'entity', name: licence.holder.name, masked: '91110105MA01DEM078' },
      status: 'valid',
      validFrom: NOW - 86_400,
      fields: {
        legalRepresentativeName: '王小明',
        registeredCapital: { amount: 1_000_000.5, currency: 'CNY' },
      },
      // Its entry in the issuer's status list, so a verifier holding the list sees later changes.
      statusList: { list: Number(licence.statusList.listId.split('.').pop()), idx: licence.statusList.idx },
    });
    const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, clock: world.clock });
    expect(await verifier.verify(created.token)).toMatchObject({
      verdict: 'valid',
      presentation: { id: created.id },
    });
    expect(audit.entries).toEqual([
      expect.objectContaining({
        action: 'licence.presented',
        actor: 'acct_test',
        licenceId: licence.id,
        licenceType: licence.type,
        holderKey: licence.holder.lookupKey,
      }),
    ]);
    expect(JSON.stringify(audit.entries)).not.toContain('王小明');
  });

  it('shows no field unless asked, lives 300 s by default, and gets a new id every time', async () => {
    const first = await createPresentation(licence.id, {}, holder, deps());
    const second = await createPresentation(licence.id, {}, holder, deps());
    expect(first.disclosed).toEqual([]);
    expect(Date.parse(first.expiresAt) - Date.parse(first.issuedAt)).toBe(300_000);
    expect(first.id).not.toBe(second.id);
    expect(
      readPresentationClaims(readPresentationEnvelope(first.token).payload).claims.licence.fields,
    ).toEqual({});
  });

  it('carries the status of the licence now', async () => {
    licence = { ...licence, status: 'suspended' };
    const { token } = await createPresentation(licence.id, {}, holder, deps());
    const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, clock: world.clock });
    expect(await verifier.verify(token)).toMatchObject({
      verdict: 'suspended',
      presentation: { statusAtPresentation: 'suspended' },
    });
  });

  it('refuses fields the licence lacks and lookup keys (400), lifetimes outside 30–600 s (400)', async () => {
    await expect(
      createPresentation(
        licence.id,
        { disclose: ['legalRepresentativeLookupKey', 'nickname'] },
        holder,
        deps(),
      ),
    ).rejects.toMatchObject({
      kind: 'invalid_input',
      code: 'field_not_disclosable',
      errors: [{ path: 'disclose.0' }, { path: 'disclose.1' }],
    });
    for (const ttlSeconds of [29, 601, 1.5]) {
      await expect(createPresentation(licence.id, { ttlSeconds }, holder, deps())).rejects.toMatchObject({
        kind: 'invalid_input',
        code: 'invalid_request',
      });
    }
  });

  it('does not present someone else’s licence: 404 as if it did not exist', async () => {
    await expect(
      createPresentation(
        licence.id,
        {},
        { holderLookupKeys: ['b3RoZXI'], level: 3, actor: 'acct_other' },
        deps(),
      ),
    ).rejects.toMatchObject({ kind: 'not_found', code: 'licence_not_found' });
    await expect(createPresentation(licenceId(8), {}, holder, deps())).rejects.toMatchObject({
      kind: 'not_found',
    });
  });

  it('does not vouch for what a withdrawn key signed, nor for a withdrawn issuer’s licence: 409, no token', async () => {
    // The key that signed the credential withdrawn after a compromise (R32 M2): the QR code verifies
    // unknown_issuer, and a presentation of the licence must not say more than it.
    const signedBy = issuer.publicJwk!;
    const successor = (await new LocalSigner().publicJwk()) as PublicJwk;
    issuer = {
      ...issuer,
      kid: successor.kid!,
      publicJwk: successor,
      keys: [
        {
          kid: signedBy.kid!,
          keyId: 'alias/old',
          publicJwk: signedBy,
          createdAt: issuer.createdAt,
          withdrawnAt: issuer.createdAt,
        },
        { kid: successor.kid!, keyId: 'alias/new', publicJwk: successor, createdAt: issuer.createdAt },
      ],
    };
    await expect(createPresentation(licence.id, {}, holder, deps())).rejects.toMatchObject({
      kind: 'conflict',
      code: 'key_withdrawn',
    });
    issuer = { ...issuer, keys: undefined, kid: signedBy.kid!, publicJwk: signedBy, status: 'withdrawn' };
    await expect(createPresentation(licence.id, {}, holder, deps())).rejects.toMatchObject({
      kind: 'conflict',
      code: 'issuer_withdrawn',
    });
    expect(audit.entries).toEqual([]);
  });

  it('discloses nothing without its entry: an audit write that fails fails the presentation, no token', async () => {
    // A presentation shows the licence to whoever scans it, and stores nothing but its entry: a disclosure,
    // refused without its trace as a licence read is (it used to be logged and the token answered).
    audit.record = async () => {
      throw new Error('audit table unavailable');
    };
    let answered: unknown;
    await expect(
      createPresentation(licence.id, { disclose: ['legalRepresentativeName'] }, holder, deps()).then(
        (created) => (answered = created),
      ),
    ).rejects.toThrow('audit table unavailable');
    expect(answered).toBeUndefined();
  });
});

describe('the EL1 format', () => {
  it('is alphanumeric-mode text that fits QR version 12 at level M for a typical driving licence', async () => {
    const token = await world.presentation();
    expect(token.startsWith(presentationPrefix)).toBe(true);
    const qr = QRCode.create(token, { errorCorrectionLevel: 'M' });
    expect(qr.version).toBeLessThanOrEqual(12);
    expect(qr.segments.every((segment: { mode: { id: string } }) => segment.mode.id === 'Alphanumeric')).toBe(
      true,
    );
  });

  it('is a tagged COSE_Sign1 with ES256, an 8-byte kid, typ application/cwt, and nothing unprotected', async () => {
    const token = await world.presentation();
    const envelope = readPresentationEnvelope(token);
    expect(envelope).toMatchObject({ alg: -7, typ: 61 });
    expect(envelope.kid).toHaveLength(8);
    const cose = decodeCbor(base45Decode(token.slice(4)));
    expect(cose).toMatchObject({ tag: 18 });
    expect(Buffer.from(encodeCbor(cose)).toString('base64')).toBe(
      Buffer.from(base45Decode(token.slice(4))).toString('base64'),
    );
  });

  it('signs exactly ["Signature1", protected, h\'\', payload] (RFC 9052 §4.4)', () => {
    const protectedBytes = presentationProtectedHeader('AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8');
    for (const size of [0, 23, 24, 255, 256, 70_000]) {
      const payload = new Uint8Array(size).fill(7);
      expect(coseSigStructure(protectedBytes, payload)).toEqual(
        encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payload]),
      );
    }
  });

  it('refuses, even when signed by the presentation key, claims outside the layout', async () => {
    const kid = await presentationSigner.kid();
    const protectedBytes = presentationProtectedHeader(kid);
    const verifier = createVerifier({ crypto: nodeEs256, trust: world.trust, clock: world.clock });
    const good = readPresentationEnvelope(await world.presentation()).payload;
    const claims = decodeCbor(good) as Map<number, unknown>;
    const variants = [
      new Map([...claims, [99, 'extra']]),
      new Map([...claims].filter(([key]) => key !== 7)),
      new Map([...claims, [2, 'not-a-licence-id']]),
      new Map([...claims, [7, new Uint8Array(4)]]),
    ];
    for (const variant of variants) {
      const payload = encodeCbor(variant as never);
      const signature = await presentationSigner.sign(coseSigStructure(protectedBytes, payload));
      expect(await verifier.verify(presentationText(protectedBytes, payload, signature))).toMatchObject({
        verdict: 'malformed',
        reason: 'invalid_claims',
      });
    }
  });
});

/**
 * Finding 3, offline part: a validly signed credential is not enough. The trust list now states each
 * issuer's licence types (with the type code their GB/T 36904 ids carry) next to its credit code, and the
 * verifier library refuses a credential or presentation whose type the signer was never given, whose id
 * names another issuer's credit code, or whose id's type code is not the type's: `unknown_issuer`, with a
 * reason saying which. Before, any key on the trust list vouched for any licence: one agency's key (or its
 * compromise) could mint another agency's licences, or types it may not issue.
 *
 * Against the library with real signatures (the trust list signed by the platform key, credentials by
 * issuer keys, synced into an OfflineTrustStore), Node and WebCrypto paths; and the trust list the
 * running service serves, over HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import { findLicenceType } from '../../shared/licence/catalogue.js';
import { createStatusBytes, encodeStatusList } from '../../packages/verifier/src/status-list.js';
import { zlibCompression } from '../../packages/verifier/src/status-list-zlib.js';
import { webCryptoEs256, type PublicJwk } from '../../packages/verifier/src/crypto.js';
import { createNodeVerifier, nodeEs256 } from '../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../packages/verifier/src/offline-store.js';
import { createVerifier, type Verifier } from '../../packages/verifier/src/verifier.js';
import { LocalSigner } from '../support/local-signer.js';
import { startTestRuntime, clientCredentialsToken, type TestRuntime } from '../support/runtime.js';
import { trustListPayload } from '../../packages/verifier/src/trust-list.js';
import { decodeJwt } from 'jose';
import { issued } from '../support/licences.js';
import { createWorld, licenceId, NOW, type World } from '../support/verifier-world.js';

const BASE = 'https://elicence.test';
/** A second agency on the same trust list, with its own key and credit code. */
const OTHER_ID = 'iss_OtherAgency000000';
const OTHER_CREDIT_CODE = '91330100716105852F';

let world: World;
let other: LocalSigner;
let served: Map<string, string>;
const clock = () => NOW * 1000;

/**
 * Publishes a platform-signed trust list: the world's issuer allowed `types` (absent: a list signed before
 * lists named types), the other agency allowed driving licences.
 */
async function publishTrustList(types: Array<{ code: string; typeCode: string }> | undefined) {
  const entry = (id: string, name: string, creditCode: string, keys: PublicJwk[]) => ({
    id,
    name,
    creditCode,
    region: '110000',
    status: 'active',
    jwks: { keys },
    statusLists: 1,
  });
  served.set(
    '/trust-list',
    await signCompactJws(
      { typ: 'trust-list+jwt' },
      {
        iss: BASE,
        iat: NOW - 60,
        exp: NOW + 7 * 86_400,
        ttl: 3600,
        issuers: [
          {
            ...entry(world.issuer.id, world.issuer.name, world.issuer.creditCode, [...world.issuer.keys]),
            ...(types && { licenceTypes: types }),
          },
          {
            ...entry(OTHER_ID, '另一个发证机关', OTHER_CREDIT_CODE, [(await other.publicJwk()) as PublicJwk]),
            licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
          },
        ],
      },
      world.platformSigner,
    ),
  );
}

async function publishStatusList(issuerId: string, signer: LocalSigner) {
  served.set(
    `/status-lists/${issuerId}.0`,
    await signCompactJws(
      { typ: 'statuslist+jwt' },
      {
        iss: issuerId,
        sub: `${BASE}/status-lists/${issuerId}.0`,
        iat: NOW - 60,
        exp: NOW + 86_400,
        ttl: 300,
        status_list: await encodeStatusList(createStatusBytes(1024), zlibCompression),
      },
      signer,
    ),
  );
}

/** Offline verifiers (Node and WebCrypto) over a store synced from what is served. */
async function offlineVerifiers(): Promise<Array<{ name: string; verifier: Verifier }>> {
  const out = [];
  for (const [name, crypto] of [
    ['Node', nodeEs256],
    ['WebCrypto', webCryptoEs256()],
  ] as const) {
    const store = new OfflineTrustStore({
      baseUrl: BASE,
      crypto,
      clock,
      compression: zlibCompression,
      platformKeys: world.trust.platform,
      fetch: async (input) => {
        const body = served.get(String(input).slice(BASE.length));
        return new Response(body ?? 'not found', { status: body === undefined ? 404 : 200 });
      },
    });
    expect((await store.sync()).failures).toEqual([]);
    out.push({ name, verifier: createVerifier({ crypto, trust: store, status: store, clock }) });
  }
  return out;
}

/** A credential the world's issuer really signs, naming `type` and `jti`. */
const credentialOf = (type: string, jti: string, signer?: LocalSigner, iss?: string) =>
  world.credential({
    claims: {
      lt: type,
      jti,
      ...(iss && {
        iss,
        status: { status_list: { idx: 7, uri: `${BASE}/status-lists/${iss}.0` } },
      }),
    },
    ...(signer && { signer }),
  });

beforeEach(async () => {
  world = await createWorld();
  other = new LocalSigner();
  served = new Map();
  await publishStatusList(world.issuer.id, world.issuerSigner);
  await publishStatusList(OTHER_ID, other);
});

describe('offline, a trusted key vouches only for its own licences of its own types', () => {
  it('refuses a type the issuer was never given, though the signature holds', async () => {
    await publishTrustList([{ code: 'business-licence', typeCode: '001' }]);
    const driving = await credentialOf('driving-licence', licenceId(7));
    const business = await credentialOf('business-licence', licenceId(8, world.issuer.creditCode, '001'));
    for (const { name, verifier } of await offlineVerifiers()) {
      expect((await verifier.verify(business)).verdict, name).toBe('valid');
      const result = await verifier.verify(driving);
      expect(result, name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_type_not_allowed',
        issuer: { id: world.issuer.id },
      });
      expect(result.licence, name).toBeUndefined();
    }
  });

  it('refuses a licence whose id names another issuer’s credit code: no minting another agency’s licences', async () => {
    await publishTrustList([{ code: 'driving-licence', typeCode: '003' }]);
    // The other agency's genuine licence, and the same id signed by the world's issuer.
    const theirId = licenceId(7, OTHER_CREDIT_CODE);
    const genuine = await credentialOf('driving-licence', theirId, other, OTHER_ID);
    const minted = await credentialOf('driving-licence', theirId);
    for (const { name, verifier } of await offlineVerifiers()) {
      expect((await verifier.verify(genuine)).verdict, name).toBe('valid');
      expect(await verifier.verify(minted), name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_id_issuer_mismatch',
        issuer: { id: world.issuer.id, creditCode: world.issuer.creditCode },
      });
    }
  });

  it('refuses a licence whose id’s type code is not its type’s', async () => {
    await publishTrustList([
      { code: 'business-licence', typeCode: '001' },
      { code: 'driving-licence', typeCode: '003' },
    ]);
    // A driving licence under a business licence's id (type code 001), and a malformed id.
    const mislabelled = await credentialOf('driving-licence', licenceId(7, world.issuer.creditCode, '001'));
    const notAnId = await credentialOf('driving-licence', 'licence-7');
    for (const { name, verifier } of await offlineVerifiers()) {
      expect(await verifier.verify(mislabelled), name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_id_type_mismatch',
      });
      expect(await verifier.verify(notAnId), name).toMatchObject({
        verdict: 'malformed',
        reason: 'invalid_claims',
      });
    }
  });

  it('fails closed on a trust list signed before it named types: no licence of that issuer is valid', async () => {
    await publishTrustList(undefined);
    const driving = await credentialOf('driving-licence', licenceId(7));
    for (const { name, verifier } of await offlineVerifiers()) {
      expect(await verifier.verify(driving), name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_type_not_allowed',
      });
    }
  });

  it('applies to presentations too: a type the issuer may not issue, or an id of another type', async () => {
    await publishTrustList([{ code: 'business-licence', typeCode: '001' }]);
    const ok = await world.presentation(
      {},
      { id: licenceId(9, world.issuer.creditCode, '001'), type: 'business-licence', fields: {} },
    );
    const notAllowed = await world.presentation();
    const mislabelled = await world.presentation(
      {},
      { id: licenceId(9, world.issuer.creditCode, '003'), type: 'business-licence', fields: {} },
    );
    for (const { name, verifier } of await offlineVerifiers()) {
      expect((await verifier.verify(ok)).verdict, name).toBe('valid');
      expect(await verifier.verify(notAllowed), name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_type_not_allowed',
      });
      expect(await verifier.verify(mislabelled), name).toMatchObject({
        verdict: 'unknown_issuer',
        reason: 'licence_id_type_mismatch',
      });
    }
  });

  it('the same checks hold with trust anchors other than the offline store (the port demands the types)', async () => {
    world.trust.issuers.set(world.issuer.id, { ...world.issuer, licenceTypes: [] });
    const verifier = createNodeVerifier({ trust: world.trust, clock: world.clock });
    expect(await verifier.verify(await world.credential())).toMatchObject({
      verdict: 'unknown_issuer',
      reason: 'licence_type_not_allowed',
    });
  });
});

describe('the trust list the service serves names each issuer’s types and credit code', () => {
  let runtime: TestRuntime;
  beforeAll(async () => {
    runtime = await startTestRuntime();
  });
  afterAll(() => runtime?.close());

  it('with the type codes of the catalogue, and an offline verifier synced from it accepts a real licence', async () => {
    const issuerToken = await clientCredentialsToken(runtime, runtime.credentials.issuer, 'licences:issue');
    const licence = await issued(runtime, issuerToken, {
      type: 'driving-licence',
      holder: { idNumber: runtime.credentials.citizen.idNumber },
      holderName: runtime.credentials.citizen.name,
      fields: { vehicleClass: 'C1', firstIssuedOn: '2015-03-01', archiveNumber: '110100123456' },
    });
    const jws = await (await fetch(`${runtime.baseUrl}/trust-list`)).text();
    const { issuers } = trustListPayload.parse(decodeJwt(jws));
    const demo = issuers.find((entry) => entry.id === runtime.credentials.issuer.id);
    expect(demo?.licenceTypes).toEqual(
      ['driving-licence', 'business-licence'].map((code) => ({
        code,
        typeCode: findLicenceType(code)?.typeCode,
      })),
    );
    expect(licence.id.split('.')[6]).toBe(demo?.creditCode);

    const store = new OfflineTrustStore({
      baseUrl: runtime.baseUrl,
      crypto: nodeEs256,
      compression: zlibCompression,
    });
    await store.sync();
    const verifier = createNodeVerifier({ trust: store, status: store });
    expect(await verifier.verify(licence.credential)).toMatchObject({ verdict: 'valid', reason: 'ok' });
  });
});

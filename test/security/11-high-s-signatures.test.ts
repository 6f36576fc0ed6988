/**
 * Finding 11: ECDSA high-S signatures verified. For every valid ES256 signature (r, s), (r, n − s) is valid
 * too: an attacker turns any credential or presentation into a second, different-looking token that is the
 * same. The verifier (Node and WebCrypto paths) refuses s > n/2, and every signer emits low-S only.
 */
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import { derToJose, lowS } from '../../shared/crypto/der.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { KmsSigner } from '../../shared/adapters/kms/signer.js';
import { kmsSigningKey } from '../../shared/sso/kms-signing-key.js';
import { base45Decode, base45Encode } from '../../packages/verifier/src/base45.js';
import { CborTag, decodeCbor, encodeCbor, type CborValue } from '../../packages/verifier/src/cbor.js';
import { isLowS, webCryptoEs256, type PublicJwk } from '../../packages/verifier/src/crypto.js';
import { createNodeVerifier, nodeEs256 } from '../../packages/verifier/src/node.js';
import { OfflineTrustStore } from '../../packages/verifier/src/offline-store.js';
import { presentationPrefix } from '../../packages/verifier/src/presentation-format.js';
import { createVerifier, type Verifier } from '../../packages/verifier/src/verifier.js';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import { LocalSigner } from '../support/local-signer.js';
import { createWorld, FakeStatus, NOW, type World } from '../support/verifier-world.js';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
const toBytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');

/** The other valid signature over the same data: (r, n − s). */
function twin(signature: Uint8Array): Uint8Array {
  const s = toBigInt(signature.subarray(32));
  return Uint8Array.from(Buffer.concat([signature.subarray(0, 32), toBytes(N - s)]));
}

/** A compact JWS with its signature replaced by `signature`. */
function withJwsSignature(jws: string, signature: Uint8Array): string {
  return `${jws.slice(0, jws.lastIndexOf('.'))}.${Buffer.from(signature).toString('base64url')}`;
}

function jwsSignature(jws: string): Uint8Array {
  return Uint8Array.from(Buffer.from(jws.slice(jws.lastIndexOf('.') + 1), 'base64url'));
}

/** A presentation's COSE_Sign1 members, and the same presentation with another signature. */
function presentationParts(text: string) {
  const message = decodeCbor(base45Decode(text.slice(presentationPrefix.length))) as CborTag;
  const [protectedBytes, unprotected, payload, signature] = message.value as [
    Uint8Array,
    Map<number, CborValue>,
    Uint8Array,
    Uint8Array,
  ];
  const resigned = (other: Uint8Array) =>
    presentationPrefix +
    base45Encode(encodeCbor(new CborTag(18, [protectedBytes, unprotected, payload, other])));
  return { signature, resigned };
}

let world: World;
let verifiers: Array<{ name: string; verifier: Verifier }>;

beforeAll(async () => {
  world = await createWorld();
  const status = new FakeStatus();
  status.statuses.set(world.credentialClaims().jti, 'valid');
  const options = { trust: world.trust, status, clock: world.clock };
  verifiers = [
    { name: 'Node (createNodeVerifier)', verifier: createNodeVerifier(options) },
    {
      name: 'WebCrypto (webCryptoEs256)',
      verifier: createVerifier({ ...options, crypto: webCryptoEs256() }),
    },
  ];
});

describe('the verifier refuses the high-S twin of a valid signature', () => {
  it('of a licence credential, on the Node and the WebCrypto path', async () => {
    // Low-S and high-S credentials alike: sign until the original is low-S (all are, from our signers).
    const credential = await world.credential();
    const signature = jwsSignature(credential);
    expect(isLowS(signature)).toBe(true);
    const highS = withJwsSignature(credential, twin(signature));

    // The attack is real: plain ECDSA (OpenSSL, WebCrypto) accepts the twin.
    const key = createPublicKey({ key: { ...(world.issuer.keys[0] as PublicJwk) }, format: 'jwk' });
    const signingInput = Buffer.from(credential.slice(0, credential.lastIndexOf('.')));
    expect(nodeVerify('sha256', signingInput, { key, dsaEncoding: 'ieee-p1363' }, twin(signature))).toBe(
      true,
    );
    const subtle = globalThis.crypto.subtle;
    const webKey = await subtle.importKey(
      'jwk',
      { ...(world.issuer.keys[0] as PublicJwk) },
      { name: 'ECDSA', namedCurve: 'P-256' },
      false,
      ['verify'],
    );
    expect(
      await subtle.verify(
        { name: 'ECDSA', hash: 'SHA-256' },
        webKey,
        twin(signature) as BufferSource,
        signingInput,
      ),
    ).toBe(true);

    for (const { name, verifier } of verifiers) {
      expect((await verifier.verify(credential)).verdict, name).toBe('valid');
      const result = await verifier.verify(highS);
      expect(result, name).toMatchObject({ verdict: 'invalid_signature', reason: 'signature_high_s' });
      expect(result.licence, name).toBeUndefined();
    }
  });

  it('of a presentation, on the Node and the WebCrypto path', async () => {
    const presentation = await world.presentation();
    const { signature, resigned } = presentationParts(presentation);
    expect(isLowS(signature)).toBe(true);
    // Re-encoded with the original signature it is the same presentation (the encoding is canonical).
    expect(resigned(signature)).toBe(presentation);
    const highS = resigned(twin(signature));
    for (const { name, verifier } of verifiers) {
      expect((await verifier.verify(presentation)).verdict, name).toBe('valid');
      expect(await verifier.verify(highS), name).toMatchObject({
        verdict: 'invalid_signature',
        reason: 'signature_high_s',
      });
    }
  });

  it('in the Es256Verifier implementations themselves, for anyone who uses them directly', async () => {
    const signer = new LocalSigner();
    const jwk = (await signer.publicJwk()) as PublicJwk;
    const data = new TextEncoder().encode('the same bytes');
    const signature = await signer.sign(data);
    const web = webCryptoEs256();
    const webKey = await web.importKey(jwk);
    const nodeKey = await nodeEs256.importKey(jwk);
    expect(await web.verify(webKey, signature, data)).toBe(true);
    expect(nodeEs256.verify(nodeKey, signature, data)).toBe(true);
    expect(await web.verify(webKey, twin(signature), data)).toBe(false);
    expect(nodeEs256.verify(nodeKey, twin(signature), data)).toBe(false);
  });

  it('of a trust list an offline store is given', async () => {
    const platformSigner = world.platformSigner;
    const platformJwk = (await platformSigner.publicJwk()) as PublicJwk;
    const issuerJwk = world.issuer.keys[0] as PublicJwk;
    const trustList = await signCompactJws(
      { typ: 'trust-list+jwt' },
      {
        iss: 'https://elicence.test',
        iat: NOW,
        exp: NOW + 86_400,
        ttl: 3600,
        issuers: [
          {
            id: world.issuer.id,
            name: world.issuer.name,
            creditCode: world.issuer.creditCode,
            region: '110000',
            status: 'active',
            jwks: { keys: [issuerJwk] },
            licenceTypes: [{ code: 'driving-licence', typeCode: '003' }],
          },
        ],
      },
      platformSigner,
    );
    const snapshot = (jws: string) => ({
      version: 1 as const,
      platformKeys: { keys: [platformJwk], fetchedAt: NOW * 1000 },
      trustList: { jws, fetchedAt: NOW * 1000 },
      statusLists: [],
    });
    for (const crypto of [nodeEs256, webCryptoEs256()]) {
      const store = new OfflineTrustStore({ baseUrl: 'https://elicence.test', crypto, clock: world.clock });
      await expect(
        store.restore(snapshot(withJwsSignature(trustList, twin(jwsSignature(trustList))))),
      ).rejects.toMatchObject({ code: 'invalid_token' });
      expect(store.issuerById(world.issuer.id)).toBeUndefined();
      await store.restore(snapshot(trustList));
      expect(store.issuerById(world.issuer.id)?.name).toBe(world.issuer.name);
    }
  });
});

describe('every signer emits low-S only', () => {
  let dataDir: string;
  let emulator: KmsEmulator;
  let kms: KMSClient;
  let keyId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'high-s-'));
    emulator = await startKmsEmulator({ dataDir, port: 0 });
    kms = createKmsClient({
      region: 'cn-north-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }),
    );
    keyId = KeyMetadata?.KeyId ?? '';
  });

  afterAll(async () => {
    await emulator?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('KMS itself returns high-S about half the time; KmsSigner and the ID-token key never do', async () => {
    const signer = new KmsSigner(kms, keyId);
    const publicKey = await signer.publicKey();
    const idTokenKey = await kmsSigningKey(signer, publicKey);
    let rawHigh = 0;
    for (let i = 0; i < 40; i++) {
      const data = new TextEncoder().encode(`message ${i}`);
      // What KMS answers (DER, either half): the reason the signer must normalise.
      const { Signature } = await kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: createHash('sha256').update(data).digest(),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      );
      if (!isLowS(derToJose(Signature as Uint8Array))) rawHigh++;

      for (const signature of [await signer.sign(data), await idTokenKey.sign(data)]) {
        expect(isLowS(signature)).toBe(true);
        expect(nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
          true,
        );
      }
    }
    // 40 draws with p = 1/2: all low by chance once in 10^12.
    expect(rawHigh).toBeGreaterThan(0);
  });

  it('lowS maps each signature to the low half and leaves low ones as they are', async () => {
    const signer = new LocalSigner();
    const key = signer.publicKeyObject;
    for (let i = 0; i < 64; i++) {
      const data = new TextEncoder().encode(`m${i}`);
      const low = await signer.sign(data);
      expect(isLowS(low)).toBe(true);
      expect(lowS(low)).toBe(low);
      const high = twin(low);
      expect(isLowS(high)).toBe(false);
      expect(Buffer.from(lowS(high)).equals(low)).toBe(true);
      expect(nodeVerify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, lowS(high))).toBe(true);
    }
    // The boundary: s = ⌊n/2⌋ is low, s = ⌊n/2⌋ + 1 is high.
    const r = new Uint8Array(32).fill(1);
    expect(isLowS(Uint8Array.from([...r, ...toBytes(N >> 1n)]))).toBe(true);
    expect(isLowS(Uint8Array.from([...r, ...toBytes((N >> 1n) + 1n)]))).toBe(false);
  });
});

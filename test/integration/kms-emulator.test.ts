import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AlreadyExistsException,
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisabledException,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  InvalidCiphertextException,
  InvalidKeyUsageException,
  KMSInvalidMacException,
  KMSInvalidSignatureException,
  KMSInvalidStateException,
  KMSServiceException,
  ListAliasesCommand,
  ListResourceTagsCommand,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  SignCommand,
  TagResourceCommand,
  UnsupportedOperationException,
  VerifyCommand,
  VerifyMacCommand,
  type KMSClient,
  type KeySpec,
  type KeyUsageType,
} from '@aws-sdk/client-kms';
import { calculateJwkThumbprint, compactVerify, importJWK } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKmsEmulator, type KmsEmulator } from '../../infra/local/kms-emulator.js';
import { joseToDer } from '../../shared/crypto/der.js';
import { createKmsClient } from '../../shared/adapters/kms/client.js';
import { KmsKeyManager } from '../../shared/adapters/kms/key-manager.js';
import { KmsMac } from '../../shared/adapters/kms/mac.js';
import { KmsRsaSigner, KmsSigner } from '../../shared/adapters/kms/signer.js';
import { retiredKeyRead } from '../../shared/crypto/key-set.js';

const REGION = 'cn-north-1';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();

let dataDir: string;
let emulator: KmsEmulator;
let kms: KMSClient;

function client(endpoint = emulator.endpoint, maxAttempts?: number): KMSClient {
  return createKmsClient({ region: REGION, endpoint, credentials, ...(maxAttempts ? { maxAttempts } : {}) });
}

/** Counts the commands a client sends, attempts excluded, by command name. */
function countCommands(target: KMSClient): Map<string, number> {
  const counts = new Map<string, number>();
  target.middlewareStack.add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '', (counts.get(context.commandName ?? '') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

async function createKey(
  keySpec: KeySpec = 'ECC_NIST_P256',
  keyUsage: KeyUsageType = 'SIGN_VERIFY',
  target = kms,
): Promise<string> {
  const { KeyMetadata } = await target.send(new CreateKeyCommand({ KeySpec: keySpec, KeyUsage: keyUsage }));
  if (!KeyMetadata?.KeyId) throw new Error('no key id');
  return KeyMetadata.KeyId;
}

async function spkiOf(keyId: string, target = kms): Promise<Buffer> {
  const { PublicKey } = await target.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!PublicKey) throw new Error('no public key');
  return Buffer.from(PublicKey);
}

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { attempts?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kms-emulator-'));
  emulator = await startKmsEmulator({ dataDir, port: 0 });
  kms = client();
});

afterAll(async () => {
  await emulator?.close();
  await rm(dataDir, { recursive: true, force: true });
});

afterEach(() => emulator.setFaults({}));

describe('KmsSigner against the emulator', () => {
  it('produces ES256 signatures that node, jose and KMS Verify all accept, under the thumbprint kid', async () => {
    const keyId = await createKey();
    const signer = new KmsSigner(kms, keyId);
    const publicKey = createPublicKey({ key: await spkiOf(keyId), format: 'der', type: 'spki' });

    const jwk = await signer.publicJwk();
    expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    expect(await signer.kid()).toBe(
      await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }), 'sha256'),
    );
    expect(jwk.kid).toBe(await signer.kid());
    expect((await signer.publicKey()).equals(publicKey)).toBe(true);

    const header = b64url(JSON.stringify({ alg: 'ES256', kid: jwk.kid, typ: 'JWT' }));
    const payload = b64url(JSON.stringify({ sub: 'holder', iat: 1_700_000_000 }));
    const signingInput = encoder.encode(`${header}.${payload}`);
    const signature = await signer.sign(signingInput);
    expect(signature).toHaveLength(64);

    expect(nodeVerify('sha256', signingInput, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
      true,
    );

    const jws = `${header}.${payload}.${b64url(signature)}`;
    const verified = await compactVerify(jws, await importJWK(jwk, 'ES256'), { algorithms: ['ES256'] });
    expect(verified.protectedHeader.kid).toBe(jwk.kid);

    const kmsVerdict = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: signingInput,
        MessageType: 'RAW',
        Signature: joseToDer(signature),
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(kmsVerdict.SignatureValid).toBe(true);

    const tampered = Uint8Array.from(signature);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    await expect(
      kms.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: sha256(signingInput),
          MessageType: 'DIGEST',
          Signature: joseToDer(tampered),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
  });

  it('signs digests of 10 KiB messages, while RAW messages above 4096 bytes are a ValidationException', async () => {
    const keyId = await createKey();
    const signer = new KmsSigner(kms, keyId);
    const message = randomBytes(10 * 1024);
    const signature = await signer.sign(message);
    expect(
      nodeVerify('sha256', message, { key: await signer.publicKey(), dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true);

    const error = await rejection(
      kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: message.subarray(0, 4097),
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(error).toBeInstanceOf(KMSServiceException);
    expect(error.name).toBe('ValidationException');

    const raw = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message.subarray(0, 4096),
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(
      nodeVerify(
        'sha256',
        message.subarray(0, 4096),
        await signer.publicKey(),
        Buffer.from(raw.Signature ?? []),
      ),
    ).toBe(true);

    const shortDigest = await rejection(
      kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: randomBytes(31),
          MessageType: 'DIGEST',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    );
    expect(shortDigest.name).toBe('ValidationException');
  });

  it('verifies by DIGEST what it signed RAW', async () => {
    const keyId = await createKey();
    const message = randomBytes(100);
    const { Signature } = await kms.send(
      new SignCommand({
        KeyId: keyId,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    const verdict = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: sha256(message),
        MessageType: 'DIGEST',
        Signature,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(verdict.SignatureValid).toBe(true);
  });

  it('fetches the public key once for concurrent first calls, and again after a failure', async () => {
    const keyId = await createKey();
    const fresh = client();
    const counts = countCommands(fresh);
    const signer = new KmsSigner(fresh, keyId);
    const kids = await Promise.all([
      signer.kid(),
      signer.publicJwk(),
      signer.kid(),
      new KmsSigner(fresh, keyId).kid(),
    ]);
    await signer.sign(encoder.encode('x'));
    expect(new Set(kids.map((kid) => (typeof kid === 'string' ? kid : kid.kid))).size).toBe(1);
    expect(counts.get('GetPublicKeyCommand')).toBe(1);

    const missing = new KmsSigner(fresh, 'alias/does-not-exist');
    await expect(missing.kid()).rejects.toBeInstanceOf(NotFoundException);
    await expect(missing.sign(encoder.encode('x'))).rejects.toBeInstanceOf(NotFoundException);
    expect(counts.get('GetPublicKeyCommand')).toBe(3);
  });

  it('answers NotFoundException for unknown keys in every form', async () => {
    for (const keyId of [
      '3a6f7a4e-0000-4000-8000-000000000000',
      `arn:aws-cn:kms:${REGION}:000000000000:key/3a6f7a4e-0000-4000-8000-000000000000`,
      'alias/unknown',
      `arn:aws-cn:kms:${REGION}:000000000000:alias/unknown`,
    ]) {
      await expect(kms.send(new DescribeKeyCommand({ KeyId: keyId }))).rejects.toBeInstanceOf(
        NotFoundException,
      );
    }
    await expect(
      new KmsSigner(kms, '3a6f7a4e-0000-4000-8000-000000000001').sign(new Uint8Array(1)),
    ).rejects.toThrow(NotFoundException);
  });

  it('resolves aliases by name and ARN, lists them, and refuses duplicates', async () => {
    const keyId = await createKey();
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/platform-signing', TargetKeyId: keyId }));
    const byAlias = new KmsSigner(kms, 'alias/platform-signing');
    expect(await byAlias.kid()).toBe(await new KmsSigner(kms, keyId).kid());
    const data = encoder.encode('via alias');
    expect(
      nodeVerify(
        'sha256',
        data,
        { key: await byAlias.publicKey(), dsaEncoding: 'ieee-p1363' },
        await byAlias.sign(data),
      ),
    ).toBe(true);

    const { Aliases } = await kms.send(new ListAliasesCommand({ KeyId: keyId }));
    expect(Aliases).toHaveLength(1);
    const aliasArn = Aliases?.[0]?.AliasArn ?? '';
    expect(aliasArn).toBe(`arn:aws-cn:kms:${REGION}:000000000000:alias/platform-signing`);
    const described = await kms.send(new DescribeKeyCommand({ KeyId: aliasArn }));
    expect(described.KeyMetadata?.KeyId).toBe(keyId);
    expect(described.KeyMetadata?.Arn).toBe(`arn:aws-cn:kms:${REGION}:000000000000:key/${keyId}`);
    expect(described.KeyMetadata?.CreationDate).toBeInstanceOf(Date);

    await expect(
      kms.send(
        new CreateAliasCommand({ AliasName: 'alias/platform-signing', TargetKeyId: await createKey() }),
      ),
    ).rejects.toBeInstanceOf(AlreadyExistsException);
  });

  it('refuses to sign with keys scheduled for deletion', async () => {
    const manager = new KmsKeyManager(kms);
    const { keyId } = await manager.createSigningKey({ description: 'retired issuer', tags: {} });
    const signer = new KmsSigner(kms, keyId);
    await signer.sign(encoder.encode('before'));
    await manager.scheduleDeletion(keyId);

    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(KeyMetadata?.KeyState).toBe('PendingDeletion');
    expect(KeyMetadata?.DeletionDate).toBeInstanceOf(Date);
    await expect(signer.sign(encoder.encode('after'))).rejects.toBeInstanceOf(KMSInvalidStateException);
    // The public key stays cached for the container; a cold container cannot even read it.
    await expect(new KmsSigner(client(), keyId).kid()).rejects.toBeInstanceOf(KMSInvalidStateException);
    await expect(manager.scheduleDeletion(keyId)).rejects.toBeInstanceOf(KMSInvalidStateException);
  });

  it('creates tagged, aliased signing keys through KmsKeyManager', async () => {
    const manager = new KmsKeyManager(kms, JSON.stringify({ Version: '2012-10-17', Statement: [] }));
    const created = await manager.createSigningKey({
      description: 'Issuer signing key',
      tags: { issuer: 'issuer-1', purpose: 'licence-signing' },
      alias: 'alias/issuer-1',
    });
    expect(created.arn).toBe(`arn:aws-cn:kms:${REGION}:000000000000:key/${created.keyId}`);

    const { Tags } = await kms.send(new ListResourceTagsCommand({ KeyId: created.keyId }));
    expect(Tags).toEqual([
      { TagKey: 'issuer', TagValue: 'issuer-1' },
      { TagKey: 'purpose', TagValue: 'licence-signing' },
    ]);
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: 'alias/issuer-1' }));
    expect(KeyMetadata).toMatchObject({
      KeyId: created.keyId,
      KeySpec: 'ECC_NIST_P256',
      KeyUsage: 'SIGN_VERIFY',
      Description: 'Issuer signing key',
      KeyState: 'Enabled',
      SigningAlgorithms: ['ECDSA_SHA_256'],
    });

    // An alias that is taken leaves no orphaned key behind.
    const error = await rejection(
      manager.createSigningKey({ description: 'dup', tags: {}, alias: 'alias/issuer-1' }),
    );
    expect(error).toBeInstanceOf(AlreadyExistsException);
  });
});

describe('RSA_2048 keys and KmsRsaSigner (RS256 ID tokens)', () => {
  it('signs RS256 that node, jose and KMS Verify accept, under the RSA thumbprint kid, one Sign per signature', async () => {
    const keyId = await createKey('RSA_2048', 'SIGN_VERIFY');
    const counted = client();
    const commands = countCommands(counted);
    const signer = new KmsRsaSigner(counted, keyId);
    const jwk = await signer.publicJwk();
    expect(jwk).toMatchObject({ kty: 'RSA', e: 'AQAB', alg: 'RS256', use: 'sig' });
    expect(jwk).not.toHaveProperty('d');
    expect(jwk.kid).toBe(await calculateJwkThumbprint({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'sha256'));

    const header = b64url(JSON.stringify({ alg: 'RS256', kid: jwk.kid }));
    const signingInput = `${header}.${b64url('{"sub":"x"}')}`;
    const signature = await signer.sign(encoder.encode(signingInput));
    expect(signature).toHaveLength(256);
    expect(commands.get('SignCommand')).toBe(1);
    expect(commands.get('GetPublicKeyCommand')).toBe(1);

    const publicKey = createPublicKey({ key: await spkiOf(keyId), format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', encoder.encode(signingInput), publicKey, signature)).toBe(true);
    const { protectedHeader } = await compactVerify(
      `${signingInput}.${b64url(signature)}`,
      await importJWK(jwk, 'RS256'),
      { algorithms: ['RS256'] },
    );
    expect(protectedHeader.kid).toBe(jwk.kid);
    for (const [MessageType, Message] of [
      ['RAW', encoder.encode(signingInput)],
      ['DIGEST', sha256(encoder.encode(signingInput))],
    ] as const) {
      const verified = await kms.send(
        new VerifyCommand({
          KeyId: keyId,
          Message,
          MessageType,
          Signature: signature,
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      );
      expect(verified.SignatureValid).toBe(true);
    }
    const flipped = Buffer.from(signature);
    flipped[100]! ^= 1;
    await expect(
      kms.send(
        new VerifyCommand({
          KeyId: keyId,
          Message: encoder.encode(signingInput),
          Signature: flipped,
          SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256',
        }),
      ),
    ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
  });

  it('signs RAW messages as node does, and refuses ECDSA on an RSA key and RSA on an EC key', async () => {
    const rsaKey = await createKey('RSA_2048', 'SIGN_VERIFY');
    const message = encoder.encode('raw message');
    const { Signature, SigningAlgorithm } = await kms.send(
      new SignCommand({ KeyId: rsaKey, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }),
    );
    expect(SigningAlgorithm).toBe('RSASSA_PKCS1_V1_5_SHA_256');
    const publicKey = createPublicKey({ key: await spkiOf(rsaKey), format: 'der', type: 'spki' });
    expect(nodeVerify('sha256', message, publicKey, Signature!)).toBe(true);
    const described = await kms.send(new DescribeKeyCommand({ KeyId: rsaKey }));
    expect(described.KeyMetadata).toMatchObject({
      KeySpec: 'RSA_2048',
      KeyUsage: 'SIGN_VERIFY',
      SigningAlgorithms: ['RSASSA_PKCS1_V1_5_SHA_256'],
    });
    await expect(
      kms.send(new SignCommand({ KeyId: rsaKey, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' })),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    const ecKey = await createKey('ECC_NIST_P256', 'SIGN_VERIFY');
    await expect(
      kms.send(
        new SignCommand({ KeyId: ecKey, Message: message, SigningAlgorithm: 'RSASSA_PKCS1_V1_5_SHA_256' }),
      ),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
    // Each signer refuses the other kind of key rather than sign under the wrong algorithm.
    await expect(new KmsRsaSigner(kms, ecKey).kid()).rejects.toThrow(/cannot sign RS256/);
    await expect(new KmsSigner(kms, rsaKey).kid()).rejects.toThrow(/cannot sign ES256/);
  });

  it('keeps an RSA key across a restart with the same data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-emulator-rsa-'));
    try {
      const first = await startKmsEmulator({ dataDir: dir });
      const keyId = await createKey('RSA_2048', 'SIGN_VERIFY', client(first.endpoint));
      const spki = await spkiOf(keyId, client(first.endpoint));
      await first.close();
      const second = await startKmsEmulator({ dataDir: dir });
      try {
        const data = encoder.encode('after restart');
        const signature = await new KmsRsaSigner(client(second.endpoint), keyId).sign(data);
        const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
        expect(nodeVerify('sha256', data, publicKey, signature)).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('MAC and encryption keys', () => {
  it('computes stable HMACs that VerifyMac accepts, and rejects a changed byte', async () => {
    const keyId = await createKey('HMAC_256', 'GENERATE_VERIFY_MAC');
    const mac = new KmsMac(kms, keyId);
    const input = encoder.encode('11010519491231002X');
    const first = await mac.mac(input);
    expect(first).toHaveLength(32);
    expect(Buffer.from(await mac.mac(input)).equals(first)).toBe(true);
    expect(Buffer.from(await mac.mac(encoder.encode('11010519491231003X'))).equals(first)).toBe(false);
    const other = new KmsMac(kms, await createKey('HMAC_256', 'GENERATE_VERIFY_MAC'));
    expect(Buffer.from(await other.mac(input)).equals(first)).toBe(false);

    const verdict = await kms.send(
      new VerifyMacCommand({ KeyId: keyId, Message: input, Mac: first, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    expect(verdict.MacValid).toBe(true);
    const changed = Uint8Array.from(first);
    changed[0] = (changed[0] ?? 0) ^ 0x01;
    await expect(
      kms.send(
        new VerifyMacCommand({ KeyId: keyId, Message: input, Mac: changed, MacAlgorithm: 'HMAC_SHA_256' }),
      ),
    ).rejects.toBeInstanceOf(KMSInvalidMacException);

    await expect(new KmsSigner(kms, keyId).kid()).rejects.toBeInstanceOf(UnsupportedOperationException);
    await expect(new KmsMac(kms, await createKey()).mac(input)).rejects.toBeInstanceOf(
      InvalidKeyUsageException,
    );
  });

  it('round-trips Encrypt/Decrypt and data keys, bound to the encryption context', async () => {
    const keyId = await createKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT');
    const context = { purpose: 'pepper', tenant: 'demo' };
    const plaintext = randomBytes(100);
    const { CiphertextBlob } = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: plaintext, EncryptionContext: context }),
    );
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob, EncryptionContext: { tenant: 'demo', purpose: 'pepper' } }),
    );
    expect(Buffer.from(decrypted.Plaintext ?? []).equals(plaintext)).toBe(true);
    expect(decrypted.KeyId).toBe(`arn:aws-cn:kms:${REGION}:000000000000:key/${keyId}`);
    await expect(
      kms.send(new DecryptCommand({ CiphertextBlob, EncryptionContext: { purpose: 'other' } })),
    ).rejects.toBeInstanceOf(InvalidCiphertextException);

    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(dataKey.Plaintext).toHaveLength(32);
    const unwrapped = await kms.send(
      new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, KeyId: keyId }),
    );
    expect(Buffer.from(unwrapped.Plaintext ?? []).equals(Buffer.from(dataKey.Plaintext ?? []))).toBe(true);
  });
});

describe('key states: DisableKey, EnableKey, CancelKeyDeletion', () => {
  const state = async (keyId: string, target = kms) => {
    const { KeyMetadata } = await target.send(new DescribeKeyCommand({ KeyId: keyId }));
    return { KeyState: KeyMetadata?.KeyState, Enabled: KeyMetadata?.Enabled };
  };

  it('refuses every cryptographic operation on a disabled key with DisabledException, and serves it again once enabled', async () => {
    const signing = await createKey();
    const macKey = await createKey('HMAC_256', 'GENERATE_VERIFY_MAC');
    const symmetric = await createKey('SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT');
    const message = encoder.encode('rotated');
    const { Signature } = await kms.send(
      new SignCommand({ KeyId: signing, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    const { Mac } = await kms.send(
      new GenerateMacCommand({ KeyId: macKey, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    const { CiphertextBlob } = await kms.send(new EncryptCommand({ KeyId: symmetric, Plaintext: message }));
    for (const keyId of [signing, macKey, symmetric]) await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    // Disabling twice is no error, as in KMS.
    await kms.send(new DisableKeyCommand({ KeyId: signing }));

    expect(await state(signing)).toEqual({ KeyState: 'Disabled', Enabled: false });
    const refused = [
      new GetPublicKeyCommand({ KeyId: signing }),
      new SignCommand({ KeyId: signing, Message: message, SigningAlgorithm: 'ECDSA_SHA_256' }),
      new VerifyCommand({
        KeyId: signing,
        Message: message,
        Signature: Signature!,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
      new GenerateMacCommand({ KeyId: macKey, Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
      new VerifyMacCommand({ KeyId: macKey, Message: message, Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' }),
      new EncryptCommand({ KeyId: symmetric, Plaintext: message }),
      new DecryptCommand({ CiphertextBlob: CiphertextBlob! }),
      new GenerateDataKeyCommand({ KeyId: symmetric, KeySpec: 'AES_256' }),
    ];
    for (const command of refused) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one list of different commands
      const error = await rejection(kms.send(command as any));
      expect(error).toBeInstanceOf(DisabledException);
      expect(error).toMatchObject({ name: 'DisabledException', $metadata: { httpStatusCode: 400 } });
      expect(error.message).toContain('is disabled');
    }
    // A cold container reading a disabled retiring generation: what the key sets leave out (R49).
    const coldRead = await rejection(new KmsSigner(client(), signing).publicJwk());
    expect(retiredKeyRead(coldRead)).toBe(true);
    // Not a cryptographic operation: an alias, tags and the description still work on a disabled key.
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/disabled-generation', TargetKeyId: signing }));
    await kms.send(
      new TagResourceCommand({ KeyId: signing, Tags: [{ TagKey: 'generation', TagValue: '1' }] }),
    );

    for (const keyId of [signing, macKey, symmetric]) await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    expect(await state(signing)).toEqual({ KeyState: 'Enabled', Enabled: true });
    await kms.send(
      new VerifyCommand({
        KeyId: signing,
        Message: message,
        Signature: Signature!,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    await kms.send(
      new VerifyMacCommand({ KeyId: macKey, Message: message, Mac: Mac!, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    const { Plaintext } = await kms.send(new DecryptCommand({ CiphertextBlob: CiphertextBlob! }));
    expect(Buffer.from(Plaintext!).toString()).toBe('rotated');
  });

  it('takes a key id or ARN, never an alias, and answers NotFoundException for an unknown key', async () => {
    const keyId = await createKey();
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    await kms.send(new DisableKeyCommand({ KeyId: KeyMetadata!.Arn! }));
    expect((await state(keyId)).KeyState).toBe('Disabled');
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/by-name-only', TargetKeyId: keyId }));
    await expect(kms.send(new EnableKeyCommand({ KeyId: 'alias/by-name-only' }))).rejects.toBeInstanceOf(
      NotFoundException,
    );
    await expect(
      kms.send(new DisableKeyCommand({ KeyId: '00000000-0000-4000-8000-000000000000' })),
    ).rejects.toBeInstanceOf(NotFoundException);
  });

  it('keeps a key pending deletion out of reach (KMSInvalidStateException) until its deletion is cancelled, which leaves it disabled', async () => {
    const keyId = await createKey();
    await kms.send(new DisableKeyCommand({ KeyId: keyId }));
    // A disabled key may be scheduled for deletion, as in KMS.
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(await state(keyId)).toEqual({ KeyState: 'PendingDeletion', Enabled: false });
    for (const command of [
      new GetPublicKeyCommand({ KeyId: keyId }),
      new EnableKeyCommand({ KeyId: keyId }),
      new DisableKeyCommand({ KeyId: keyId }),
    ]) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- one list of different commands
      await expect(kms.send(command as any)).rejects.toBeInstanceOf(KMSInvalidStateException);
    }

    await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(KeyMetadata?.DeletionDate).toBeUndefined();
    await expect(kms.send(new GetPublicKeyCommand({ KeyId: keyId }))).rejects.toBeInstanceOf(
      DisabledException,
    );
    await expect(kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }))).rejects.toBeInstanceOf(
      KMSInvalidStateException,
    );
    await kms.send(new EnableKeyCommand({ KeyId: keyId }));
    await spkiOf(keyId);
  });
});

describe('persistence', () => {
  it('keeps a disabled key disabled across a restart with the same data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-emulator-restart-'));
    try {
      const first = await startKmsEmulator({ dataDir: dir });
      const keyId = await createKey('ECC_NIST_P256', 'SIGN_VERIFY', client(first.endpoint));
      await client(first.endpoint).send(new DisableKeyCommand({ KeyId: keyId }));
      await first.close();

      const second = await startKmsEmulator({ dataDir: dir });
      try {
        const secondClient = client(second.endpoint);
        await expect(spkiOf(keyId, secondClient)).rejects.toBeInstanceOf(DisabledException);
        await secondClient.send(new EnableKeyCommand({ KeyId: keyId }));
        await spkiOf(keyId, secondClient);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps keys across a restart with the same data directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kms-emulator-restart-'));
    try {
      const first = await startKmsEmulator({ dataDir: dir });
      const firstClient = client(first.endpoint);
      const keyId = await createKey('ECC_NIST_P256', 'SIGN_VERIFY', firstClient);
      await firstClient.send(new CreateAliasCommand({ AliasName: 'alias/persisted', TargetKeyId: keyId }));
      const spki = await spkiOf(keyId, firstClient);
      await first.close();

      const second = await startKmsEmulator({ dataDir: dir });
      try {
        const secondClient = client(second.endpoint);
        expect((await spkiOf(keyId, secondClient)).equals(spki)).toBe(true);
        expect((await spkiOf('alias/persisted', secondClient)).equals(spki)).toBe(true);
        const data = encoder.encode('after restart');
        const signature = await new KmsSigner(secondClient, keyId).sign(data);
        const publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
        expect(nodeVerify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(
          true,
        );
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fault injection', () => {
  it('uses five attempts by default', async () => {
    expect(await client().config.maxAttempts()).toBe(5);
  });

  it('lets KmsSigner ride out 30 % throttling through SDK retries', { timeout: 90_000 }, async () => {
    const keyId = await createKey();
    const throttled = client();
    const signer = new KmsSigner(throttled, keyId);
    const publicKey = await signer.publicKey();
    emulator.setFaults({ throttleRate: 0.3 });

    const attempts: number[] = [];
    throttled.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        attempts.push((result.output as { $metadata: { attempts?: number } }).$metadata.attempts ?? 1);
        return result;
      },
      { step: 'initialize', name: 'recordAttempts' },
    );
    const messages = Array.from({ length: 50 }, (_, i) => encoder.encode(`licence ${i}`));
    const signatures = await Promise.all(messages.map((message) => signer.sign(message)));
    signatures.forEach((signature, i) => {
      expect(
        nodeVerify(
          'sha256',
          messages[i] ?? new Uint8Array(),
          { key: publicKey, dsaEncoding: 'ieee-p1363' },
          signature,
        ),
      ).toBe(true);
    });
    expect(attempts).toHaveLength(50);
    expect(attempts.some((count) => count > 1)).toBe(true);
  });

  it('fails with ThrottlingException once the retries are spent', { timeout: 60_000 }, async () => {
    const keyId = await createKey();
    const throttled = client(emulator.endpoint, 3);
    const signer = new KmsSigner(throttled, keyId);
    await signer.kid();
    emulator.setFaults({ throttleRate: 1 });
    const error = await rejection(signer.sign(encoder.encode('never')));
    expect(error.name).toBe('ThrottlingException');
    expect(error).toBeInstanceOf(KMSServiceException);
    expect(error.$metadata?.attempts).toBe(3);
  });

  it('adds latency to every call', async () => {
    const keyId = await createKey();
    emulator.setFaults({ latencyMs: 150 });
    const started = performance.now();
    await kms.send(new DescribeKeyCommand({ KeyId: keyId }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('protocol edges', () => {
  const post = (target: string, body: string) =>
    fetch(emulator.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target },
      body,
    });

  it('answers unknown operations with UnsupportedOperationException', async () => {
    const response = await post('TrentService.ReplicateKey', '{}');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'UnsupportedOperationException' });
  });

  it('refuses oversized bodies before parsing them', async () => {
    const response = await post('TrentService.Sign', ' '.repeat(65 * 1024));
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ __type: 'ValidationException' });
  });

  it('answers malformed JSON and bad base64 as client errors', async () => {
    const bad = await post('TrentService.DescribeKey', '{');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ __type: 'SerializationException' });
    const blob = await post(
      'TrentService.Sign',
      JSON.stringify({ KeyId: 'x', Message: '***', SigningAlgorithm: 'ECDSA_SHA_256' }),
    );
    expect(await blob.json()).toMatchObject({ __type: 'ValidationException' });
  });

  it('rejects signatures by other keys, and algorithms the key does not support', async () => {
    const signKey = await createKey();
    const foreign = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const signature = nodeSign('sha256', Buffer.from('x'), foreign);
    await expect(
      kms.send(
        new VerifyCommand({
          KeyId: signKey,
          Message: Buffer.from('x'),
          Signature: signature,
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    ).rejects.toBeInstanceOf(KMSInvalidSignatureException);
    await expect(
      kms.send(
        new SignCommand({ KeyId: signKey, Message: Buffer.from('x'), SigningAlgorithm: 'ECDSA_SHA_384' }),
      ),
    ).rejects.toBeInstanceOf(InvalidKeyUsageException);
  });
});

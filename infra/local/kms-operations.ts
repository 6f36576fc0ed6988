import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  generateKeyPairSync,
  privateEncrypt,
  publicDecrypt,
  randomBytes,
  randomUUID,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
} from 'node:crypto';
import * as z from 'zod';
import { derToJose, joseToDer } from '../../shared/crypto/der.js';
import { bigIntToBytes, bytesToBigInt, signDigest, verifyDigest } from './kms-ecdsa.js';
import {
  KEY_KINDS,
  type EcMaterial,
  type KeyRecord,
  type KeySpec,
  type KeyUsage,
  type KmsKeyStore,
} from './kms-store.js';

/** The account every emulated ARN names. */
export const ACCOUNT_ID = '000000000000';

/**
 * A KMS error as the service reports it: `type` becomes the response's `__type`, which is all the SDK
 * reads to pick its exception class (the HTTP status only sets `$fault` and `$metadata`).
 */
export class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export interface RequestContext {
  /** From the SigV4 credential scope, as the real endpoint is per region. */
  region: string;
  /** Epoch milliseconds. */
  now: number;
}

export type Operation = (input: unknown, ctx: RequestContext) => Promise<Record<string, unknown>>;

const MAX_MESSAGE = 4096;
const MAX_CIPHERTEXT = 6144;
const CIPHERTEXT_VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;
const KEY_ID_LENGTH = 16;

const blob = (max: number) =>
  z
    .base64()
    .transform((text) => Buffer.from(text, 'base64'))
    .refine((bytes) => bytes.length >= 1 && bytes.length <= max, {
      message: `Member must have length between 1 and ${max}`,
    });
const keyId = z.string().min(1).max(2048);
const tags = z.array(z.object({ TagKey: z.string().min(1).max(128), TagValue: z.string().max(256) })).max(50);
const encryptionContext = z.record(z.string(), z.string()).optional();
const limit = z.number().int().min(1).max(1000).optional();
const marker = z.string().regex(/^\d+$/).optional();

function validationMessage(error: z.ZodError): string {
  const details = error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    const field = path.charAt(0).toLowerCase() + path.slice(1);
    return `Value at '${field}' failed to satisfy constraint: ${issue.message}`;
  });
  return `${details.length} validation error${details.length === 1 ? '' : 's'} detected: ${details.join('; ')}`;
}

function operation<S extends z.ZodType>(
  schema: S,
  run: (
    input: z.output<S>,
    ctx: RequestContext,
  ) => Record<string, unknown> | Promise<Record<string, unknown>>,
): Operation {
  return async (input, ctx) => {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw new KmsFault('ValidationException', validationMessage(parsed.error));
    return run(parsed.data, ctx);
  };
}

/** `aws-cn` for the China regions, as ARNs there read; `aws` elsewhere. */
const partition = (region: string) =>
  region.startsWith('cn-') ? 'aws-cn' : region.startsWith('us-gov-') ? 'aws-us-gov' : 'aws';
const keyArn = (region: string, id: string) =>
  `arn:${partition(region)}:kms:${region}:${ACCOUNT_ID}:key/${id}`;
const aliasArn = (region: string, name: string) =>
  `arn:${partition(region)}:kms:${region}:${ACCOUNT_ID}:${name}`;
const ARN = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):((?:key|alias)\/.+)$/;
const seconds = (ms: number) => ms / 1000;
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

function uuidToBytes(id: string): Buffer {
  return Buffer.from(id.replaceAll('-', ''), 'hex');
}

function bytesToUuid(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

/** Encryption context as AES-GCM associated data: order-independent, as KMS treats it. */
function contextAad(context: Record<string, string> | undefined): Buffer {
  const entries = Object.entries(context ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function keyMetadata(key: KeyRecord): Record<string, unknown> {
  return {
    AWSAccountId: ACCOUNT_ID,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: seconds(key.creationDate),
    Enabled: key.keyState === 'Enabled',
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: key.keyState,
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    MultiRegion: false,
    ...(key.keyUsage === 'SIGN_VERIFY' ? { SigningAlgorithms: [signingAlgorithmOf(key)] } : {}),
    ...(key.keyUsage === 'GENERATE_VERIFY_MAC' ? { MacAlgorithms: ['HMAC_SHA_256'] } : {}),
    ...(key.keyUsage === 'ENCRYPT_DECRYPT' ? { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : {}),
    ...(key.deletionDate === undefined
      ? {}
      : { DeletionDate: seconds(key.deletionDate), PendingDeletionWindowInDays: key.pendingWindowInDays }),
  };
}

/** Strict DER only, as KMS: anything unparsable is simply not a valid signature. */
function signatureValid(
  material: EcMaterial,
  messageType: 'RAW' | 'DIGEST',
  message: Buffer,
  der: Buffer,
): boolean {
  try {
    const jose = derToJose(der);
    if (messageType === 'RAW') {
      return verify('sha256', message, { key: material.publicKey, dsaEncoding: 'ieee-p1363' }, jose);
    }
    return verifyDigest(
      material.q,
      message,
      bytesToBigInt(jose.subarray(0, 32)),
      bytesToBigInt(jose.subarray(32)),
    );
  } catch {
    return false;
  }
}

/** The one signing algorithm the emulator offers per asymmetric key spec (KMS offers more for RSA). */
function signingAlgorithmOf(key: KeyRecord): string {
  return key.keySpec === 'RSA_2048' ? 'RSASSA_PKCS1_V1_5_SHA_256' : 'ECDSA_SHA_256';
}

/** DER of the DigestInfo prefix for SHA-256 (RFC 8017 §9.2, note 1): what PKCS #1 v1.5 signs, then the digest. */
const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

/**
 * RSASSA-PKCS1-v1_5 with SHA-256 over a message or a caller-supplied digest. Node's `crypto.sign` hashes
 * its input itself, so a digest is signed as KMS does: the private-key operation with type-1 padding over
 * DigestInfo(SHA-256, digest), which is exactly the PKCS #1 v1.5 signature of the original message.
 */
function rsaSign(privateKey: KeyObject, messageType: 'RAW' | 'DIGEST', message: Buffer): Buffer {
  const digest = messageType === 'RAW' ? createHash('sha256').update(message).digest() : message;
  return privateEncrypt(
    { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
    Buffer.concat([SHA256_DIGEST_INFO, digest]),
  );
}

function rsaSignatureValid(
  publicKey: KeyObject,
  messageType: 'RAW' | 'DIGEST',
  message: Buffer,
  signature: Buffer,
): boolean {
  const digest = messageType === 'RAW' ? createHash('sha256').update(message).digest() : message;
  try {
    const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
    const expected = Buffer.concat([SHA256_DIGEST_INFO, digest]);
    return recovered.length === expected.length && timingSafeEqual(recovered, expected);
  } catch {
    return false;
  }
}

function newMaterial(spec: KeySpec): string {
  if (spec === 'RSA_2048') {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  if (spec === 'ECC_NIST_P256') {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  return randomBytes(32).toString('base64');
}

/** The KMS operations the emulator answers, by `X-Amz-Target` operation name. */
export function kmsOperations(store: KmsKeyStore): ReadonlyMap<string, Operation> {
  function findKey(id: string, ctx: RequestContext): KeyRecord {
    const arn = ARN.exec(id);
    const resource = arn ? arn[3] : id;
    if (resource?.startsWith('alias/')) {
      const alias = store.aliases.get(resource);
      const expectedArn = aliasArn(arn?.[1] ?? ctx.region, resource);
      const key = alias && (!arn || alias.aliasArn === id) ? store.keys.get(alias.targetKeyId) : undefined;
      if (!key) throw new KmsFault('NotFoundException', `Alias ${expectedArn} is not found.`);
      return key;
    }
    const plainId = arn ? resource?.replace(/^key\//, '') : resource;
    const key = plainId === undefined ? undefined : store.keys.get(plainId);
    if (!key || (arn && key.arn !== id)) {
      throw new KmsFault('NotFoundException', `Key '${arn ? id : keyArn(ctx.region, id)}' does not exist`);
    }
    return key;
  }

  /**
   * A key any operation but a cryptographic one may use (DescribeKey, CreateAlias, tags, Disable/EnableKey,
   * ScheduleKeyDeletion): KMS refuses a key pending deletion with `KMSInvalidStateException`.
   */
  function notPendingDeletion(key: KeyRecord): KeyRecord {
    if (key.keyState === 'PendingDeletion') {
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
    }
    return key;
  }

  /**
   * A key a cryptographic operation may use: a disabled one is `DisabledException` and one pending deletion
   * `KMSInvalidStateException`, as KMS answers them ("Key states of AWS KMS keys").
   */
  function usableKey(id: string, ctx: RequestContext, usage: KeyUsage, action: string): KeyRecord {
    const key = notPendingDeletion(findKey(id, ctx));
    if (key.keyState === 'Disabled') throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    if (key.keyUsage !== usage) {
      const type = action === 'GetPublicKey' ? 'UnsupportedOperationException' : 'InvalidKeyUsageException';
      throw new KmsFault(type, `${key.arn} key usage is ${key.keyUsage} which is not valid for ${action}.`);
    }
    return key;
  }

  function checkAlgorithm(key: KeyRecord, algorithm: string, supported: string): void {
    if (algorithm !== supported) {
      throw new KmsFault(
        'InvalidKeyUsageException',
        `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
      );
    }
  }

  function checkDigest(key: KeyRecord, messageType: string, message: Buffer): void {
    if (messageType === 'DIGEST' && message.length !== 32) {
      throw new KmsFault(
        'ValidationException',
        `Digest is invalid length for algorithm ${signingAlgorithmOf(key)}.`,
      );
    }
  }

  /**
   * A key by its id or key ARN, as `DisableKey`, `EnableKey` and `CancelKeyDeletion` take it: KMS does not
   * resolve an alias there.
   */
  function keyById(id: string, ctx: RequestContext): KeyRecord {
    if (id.startsWith('alias/') || /^arn:[^:]+:kms:[^:]*:[^:]*:alias\//.test(id)) {
      throw new KmsFault('NotFoundException', `Invalid keyId ${id}`);
    }
    return findKey(id, ctx);
  }

  /** The public key of a signing key, whichever its kind. */
  const publicKeyOf = (key: KeyRecord): KeyObject =>
    key.keySpec === 'RSA_2048' ? store.rsa(key).publicKey : store.ec(key).publicKey;

  function findAlias(name: string) {
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(name) || name.startsWith('alias/aws/')) {
      throw new KmsFault('ValidationException', `Alias name ${name} is not valid.`);
    }
    return store.aliases.get(name);
  }

  function page<T>(items: T[], input: { Limit?: number | undefined; Marker?: string | undefined }) {
    const start = input.Marker === undefined ? 0 : Number(input.Marker);
    const end = start + (input.Limit ?? 100);
    const truncated = end < items.length;
    return { items: items.slice(start, end), truncated, ...(truncated ? { NextMarker: String(end) } : {}) };
  }

  const signing = z.object({
    KeyId: keyId,
    Message: blob(MAX_MESSAGE),
    MessageType: z.enum(['RAW', 'DIGEST']).default('RAW'),
    SigningAlgorithm: z.string().min(1),
  });

  const mac = z.object({ KeyId: keyId, Message: blob(MAX_MESSAGE), MacAlgorithm: z.string().min(1) });

  const computeMac = (key: KeyRecord, message: Buffer) =>
    createHmac('sha256', store.secret(key)).update(message).digest();

  const operations: Record<string, Operation> = {
    CreateKey: operation(
      z.object({
        Description: z.string().max(8192).optional(),
        KeyUsage: z.string().optional(),
        KeySpec: z.string().optional(),
        CustomerMasterKeySpec: z.string().optional(),
        Policy: z.string().min(1).max(32768).optional(),
        // Accepted and ignored: the emulator enforces no key policy.
        BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
        Origin: z.string().optional(),
        MultiRegion: z.boolean().optional(),
        Tags: tags.optional(),
      }),
      async (input, ctx) => {
        const spec = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
        const usage = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
        if (!(spec in KEY_KINDS)) {
          throw new KmsFault(
            'UnsupportedOperationException',
            `KeySpec ${spec} is not supported by the KMS emulator.`,
          );
        }
        const keySpec = spec as KeySpec;
        if (KEY_KINDS[keySpec] !== usage) {
          throw new KmsFault(
            'ValidationException',
            `KeyUsage ${usage} is not compatible with KeySpec ${spec}.`,
          );
        }
        if ((input.Origin ?? 'AWS_KMS') !== 'AWS_KMS' || input.MultiRegion) {
          throw new KmsFault(
            'UnsupportedOperationException',
            'Only single-region AWS_KMS keys are emulated.',
          );
        }
        if (input.Policy !== undefined) {
          try {
            JSON.parse(input.Policy);
          } catch {
            throw new KmsFault('MalformedPolicyDocumentException', 'The key policy is not valid JSON.');
          }
        }
        const id = randomUUID();
        const key: KeyRecord = {
          keyId: id,
          arn: keyArn(ctx.region, id),
          description: input.Description ?? '',
          keySpec,
          keyUsage: KEY_KINDS[keySpec],
          keyState: 'Enabled',
          creationDate: ctx.now,
          ...(input.Policy === undefined ? {} : { policy: input.Policy }),
          tags: Object.fromEntries((input.Tags ?? []).map((tag) => [tag.TagKey, tag.TagValue])),
          material: newMaterial(keySpec),
        };
        store.keys.set(id, key);
        await store.persist();
        return { KeyMetadata: keyMetadata(key) };
      },
    ),

    DescribeKey: operation(z.object({ KeyId: keyId }), (input, ctx) => ({
      KeyMetadata: keyMetadata(findKey(input.KeyId, ctx)),
    })),

    CreateAlias: operation(
      z.object({ AliasName: z.string().min(1).max(256), TargetKeyId: keyId }),
      async (input, ctx) => {
        if (input.TargetKeyId.startsWith('alias/') || input.TargetKeyId.includes(':alias/')) {
          throw new KmsFault('ValidationException', 'TargetKeyId must be a key id or key ARN, not an alias.');
        }
        // A disabled key may be aliased, as in KMS; one pending deletion may not.
        const key = notPendingDeletion(findKey(input.TargetKeyId, ctx));
        const region = key.arn.split(':')[3] ?? ctx.region;
        if (findAlias(input.AliasName)) {
          throw new KmsFault(
            'AlreadyExistsException',
            `An alias with the name ${aliasArn(region, input.AliasName)} already exists`,
          );
        }
        store.aliases.set(input.AliasName, {
          aliasName: input.AliasName,
          aliasArn: aliasArn(region, input.AliasName),
          targetKeyId: key.keyId,
          creationDate: ctx.now,
          lastUpdatedDate: ctx.now,
        });
        await store.persist();
        return {};
      },
    ),

    ListAliases: operation(
      z.object({ KeyId: keyId.optional(), Limit: limit, Marker: marker }),
      (input, ctx) => {
        const target = input.KeyId === undefined ? undefined : findKey(input.KeyId, ctx).keyId;
        const aliases = [...store.aliases.values()]
          .filter((alias) => target === undefined || alias.targetKeyId === target)
          .sort((a, b) => (a.aliasName < b.aliasName ? -1 : 1));
        const { items, truncated, ...next } = page(aliases, input);
        return {
          Aliases: items.map((alias) => ({
            AliasName: alias.aliasName,
            AliasArn: alias.aliasArn,
            TargetKeyId: alias.targetKeyId,
            CreationDate: seconds(alias.creationDate),
            LastUpdatedDate: seconds(alias.lastUpdatedDate),
          })),
          Truncated: truncated,
          ...next,
        };
      },
    ),

    GetPublicKey: operation(z.object({ KeyId: keyId }), (input, ctx) => {
      const key = usableKey(input.KeyId, ctx, 'SIGN_VERIFY', 'GetPublicKey');
      return {
        KeyId: key.arn,
        PublicKey: b64(publicKeyOf(key).export({ type: 'spki', format: 'der' })),
        CustomerMasterKeySpec: key.keySpec,
        KeySpec: key.keySpec,
        KeyUsage: key.keyUsage,
        SigningAlgorithms: [signingAlgorithmOf(key)],
      };
    }),

    Sign: operation(signing, (input, ctx) => {
      const key = usableKey(input.KeyId, ctx, 'SIGN_VERIFY', 'Sign');
      checkAlgorithm(key, input.SigningAlgorithm, signingAlgorithmOf(key));
      checkDigest(key, input.MessageType, input.Message);
      if (key.keySpec === 'RSA_2048') {
        const signature = rsaSign(store.rsa(key).privateKey, input.MessageType, input.Message);
        return { KeyId: key.arn, Signature: b64(signature), SigningAlgorithm: input.SigningAlgorithm };
      }
      const material = store.ec(key);
      let signature: Uint8Array;
      if (input.MessageType === 'RAW') {
        signature = sign('sha256', input.Message, { key: material.privateKey, dsaEncoding: 'der' });
      } else {
        const { r, s } = signDigest(material.d, input.Message);
        signature = joseToDer(Buffer.concat([bigIntToBytes(r), bigIntToBytes(s)]));
      }
      return { KeyId: key.arn, Signature: b64(signature), SigningAlgorithm: input.SigningAlgorithm };
    }),

    Verify: operation(signing.extend({ Signature: blob(MAX_CIPHERTEXT) }), (input, ctx) => {
      const key = usableKey(input.KeyId, ctx, 'SIGN_VERIFY', 'Verify');
      checkAlgorithm(key, input.SigningAlgorithm, signingAlgorithmOf(key));
      checkDigest(key, input.MessageType, input.Message);
      const valid =
        key.keySpec === 'RSA_2048'
          ? rsaSignatureValid(store.rsa(key).publicKey, input.MessageType, input.Message, input.Signature)
          : signatureValid(store.ec(key), input.MessageType, input.Message, input.Signature);
      if (!valid) throw new KmsFault('KMSInvalidSignatureException', 'The signature is not valid.');
      return { KeyId: key.arn, SignatureValid: true, SigningAlgorithm: input.SigningAlgorithm };
    }),

    GenerateMac: operation(mac, (input, ctx) => {
      const key = usableKey(input.KeyId, ctx, 'GENERATE_VERIFY_MAC', 'GenerateMac');
      checkAlgorithm(key, input.MacAlgorithm, 'HMAC_SHA_256');
      return { KeyId: key.arn, Mac: b64(computeMac(key, input.Message)), MacAlgorithm: input.MacAlgorithm };
    }),

    VerifyMac: operation(mac.extend({ Mac: blob(MAX_CIPHERTEXT) }), (input, ctx) => {
      const key = usableKey(input.KeyId, ctx, 'GENERATE_VERIFY_MAC', 'VerifyMac');
      checkAlgorithm(key, input.MacAlgorithm, 'HMAC_SHA_256');
      const expected = computeMac(key, input.Message);
      if (expected.length !== input.Mac.length || !timingSafeEqual(expected, input.Mac)) {
        throw new KmsFault('KMSInvalidMacException', 'The MAC is not valid.');
      }
      return { KeyId: key.arn, MacValid: true, MacAlgorithm: input.MacAlgorithm };
    }),

    Encrypt: operation(
      z.object({
        KeyId: keyId,
        Plaintext: blob(MAX_MESSAGE),
        EncryptionContext: encryptionContext,
        EncryptionAlgorithm: z.string().optional(),
      }),
      (input, ctx) => {
        const key = usableKey(input.KeyId, ctx, 'ENCRYPT_DECRYPT', 'Encrypt');
        checkAlgorithm(key, input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT');
        return {
          KeyId: key.arn,
          CiphertextBlob: b64(encrypt(key, input.Plaintext, input.EncryptionContext)),
          EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        };
      },
    ),

    Decrypt: operation(
      z.object({
        CiphertextBlob: blob(MAX_CIPHERTEXT),
        KeyId: keyId.optional(),
        EncryptionContext: encryptionContext,
        EncryptionAlgorithm: z.string().optional(),
      }),
      (input, ctx) => {
        const blobBytes = input.CiphertextBlob;
        const headerLength = 1 + KEY_ID_LENGTH + IV_LENGTH + TAG_LENGTH;
        if (blobBytes.length <= headerLength || blobBytes[0] !== CIPHERTEXT_VERSION) {
          throw new KmsFault('InvalidCiphertextException', 'The ciphertext is not valid.');
        }
        const embeddedId = bytesToUuid(blobBytes.subarray(1, 1 + KEY_ID_LENGTH));
        if (!store.keys.has(embeddedId)) {
          throw new KmsFault('InvalidCiphertextException', 'The ciphertext is not valid.');
        }
        const key = usableKey(embeddedId, ctx, 'ENCRYPT_DECRYPT', 'Decrypt');
        if (input.KeyId !== undefined && findKey(input.KeyId, ctx).keyId !== key.keyId) {
          throw new KmsFault(
            'IncorrectKeyException',
            'The key ID in the request does not identify the key that encrypted the ciphertext.',
          );
        }
        checkAlgorithm(key, input.EncryptionAlgorithm ?? 'SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT');
        let plaintext: Buffer;
        try {
          const ivStart = 1 + KEY_ID_LENGTH;
          const tagStart = ivStart + IV_LENGTH;
          const decipher = createDecipheriv(
            'aes-256-gcm',
            store.secret(key),
            blobBytes.subarray(ivStart, tagStart),
          );
          decipher.setAAD(contextAad(input.EncryptionContext));
          decipher.setAuthTag(blobBytes.subarray(tagStart, tagStart + TAG_LENGTH));
          plaintext = Buffer.concat([decipher.update(blobBytes.subarray(headerLength)), decipher.final()]);
        } catch {
          throw new KmsFault('InvalidCiphertextException', 'The ciphertext is not valid.');
        }
        return { KeyId: key.arn, Plaintext: b64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      },
    ),

    GenerateDataKey: operation(
      z.object({
        KeyId: keyId,
        KeySpec: z.enum(['AES_256', 'AES_128']).optional(),
        NumberOfBytes: z.number().int().min(1).max(1024).optional(),
        EncryptionContext: encryptionContext,
      }),
      (input, ctx) => {
        if ((input.KeySpec === undefined) === (input.NumberOfBytes === undefined)) {
          throw new KmsFault('ValidationException', 'Specify exactly one of KeySpec and NumberOfBytes.');
        }
        const key = usableKey(input.KeyId, ctx, 'ENCRYPT_DECRYPT', 'GenerateDataKey');
        const plaintext = randomBytes(input.NumberOfBytes ?? (input.KeySpec === 'AES_128' ? 16 : 32));
        return {
          KeyId: key.arn,
          Plaintext: b64(plaintext),
          CiphertextBlob: b64(encrypt(key, plaintext, input.EncryptionContext)),
        };
      },
    ),

    ScheduleKeyDeletion: operation(
      z.object({ KeyId: keyId, PendingWindowInDays: z.number().int().min(7).max(30).default(30) }),
      async (input, ctx) => {
        // An enabled or a disabled key; one already pending deletion is refused.
        const key = notPendingDeletion(findKey(input.KeyId, ctx));
        key.keyState = 'PendingDeletion';
        key.pendingWindowInDays = input.PendingWindowInDays;
        key.deletionDate = ctx.now + input.PendingWindowInDays * 86_400_000;
        await store.persist();
        return {
          KeyId: key.arn,
          DeletionDate: seconds(key.deletionDate),
          KeyState: key.keyState,
          PendingWindowInDays: key.pendingWindowInDays,
        };
      },
    ),

    CancelKeyDeletion: operation(z.object({ KeyId: keyId }), async (input, ctx) => {
      const key = keyById(input.KeyId, ctx);
      if (key.keyState !== 'PendingDeletion') {
        throw new KmsFault('KMSInvalidStateException', `${key.arn} is not pending deletion.`);
      }
      // As KMS: a key whose deletion is cancelled is disabled, until `EnableKey`.
      key.keyState = 'Disabled';
      delete key.deletionDate;
      delete key.pendingWindowInDays;
      await store.persist();
      return { KeyId: key.arn };
    }),

    DisableKey: operation(z.object({ KeyId: keyId }), async (input, ctx) => {
      const key = notPendingDeletion(keyById(input.KeyId, ctx));
      key.keyState = 'Disabled';
      await store.persist();
      return {};
    }),

    EnableKey: operation(z.object({ KeyId: keyId }), async (input, ctx) => {
      const key = notPendingDeletion(keyById(input.KeyId, ctx));
      key.keyState = 'Enabled';
      await store.persist();
      return {};
    }),

    TagResource: operation(z.object({ KeyId: keyId, Tags: tags }), async (input, ctx) => {
      const key = notPendingDeletion(findKey(input.KeyId, ctx));
      const merged = {
        ...key.tags,
        ...Object.fromEntries(input.Tags.map((tag) => [tag.TagKey, tag.TagValue])),
      };
      if (Object.keys(merged).length > 50)
        throw new KmsFault('TagException', 'A key can have at most 50 tags.');
      key.tags = merged;
      await store.persist();
      return {};
    }),

    UntagResource: operation(
      z.object({ KeyId: keyId, TagKeys: z.array(z.string().min(1).max(128)) }),
      async (input, ctx) => {
        const key = notPendingDeletion(findKey(input.KeyId, ctx));
        key.tags = Object.fromEntries(
          Object.entries(key.tags).filter(([name]) => !input.TagKeys.includes(name)),
        );
        await store.persist();
        return {};
      },
    ),

    ListResourceTags: operation(z.object({ KeyId: keyId, Limit: limit, Marker: marker }), (input, ctx) => {
      const key = findKey(input.KeyId, ctx);
      const all = Object.entries(key.tags)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
      const { items, truncated, ...next } = page(all, input);
      return { Tags: items, Truncated: truncated, ...next };
    }),
  };

  function encrypt(key: KeyRecord, plaintext: Buffer, context: Record<string, string> | undefined): Buffer {
    const iv = randomBytes(IV_LENGTH);
    const cipher = createCipheriv('aes-256-gcm', store.secret(key), iv);
    cipher.setAAD(contextAad(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([
      Buffer.from([CIPHERTEXT_VERSION]),
      uuidToBytes(key.keyId),
      iv,
      cipher.getAuthTag(),
      ciphertext,
    ]);
  }

  return new Map(Object.entries(operations));
}

import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { bytesToBigInt } from './kms-ecdsa.js';
import { acquireStoreLock } from './store-lock.js';

/** The KMS key kinds the emulator implements, each with the one usage it allows. */
export const KEY_KINDS = {
  ECC_NIST_P256: 'SIGN_VERIFY',
  RSA_2048: 'SIGN_VERIFY',
  HMAC_256: 'GENERATE_VERIFY_MAC',
  SYMMETRIC_DEFAULT: 'ENCRYPT_DECRYPT',
} as const;

export type KeySpec = keyof typeof KEY_KINDS;
export type KeyUsage = (typeof KEY_KINDS)[KeySpec];

const keyRecordSchema = z.object({
  keyId: z.uuid(),
  arn: z.string(),
  description: z.string(),
  keySpec: z.enum(['ECC_NIST_P256', 'RSA_2048', 'HMAC_256', 'SYMMETRIC_DEFAULT']),
  keyUsage: z.enum(['SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'ENCRYPT_DECRYPT']),
  /** As KMS: `Disabled` by `DisableKey` or `CancelKeyDeletion`, `Enabled` again by `EnableKey`. */
  keyState: z.enum(['Enabled', 'Disabled', 'PendingDeletion']),
  /** Epoch milliseconds. */
  creationDate: z.number(),
  deletionDate: z.number().optional(),
  pendingWindowInDays: z.number().optional(),
  policy: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  /** PKCS8 PEM for ECC and RSA keys, base64 key bytes for HMAC and symmetric keys. */
  material: z.string(),
});

const aliasRecordSchema = z.object({
  aliasName: z.string(),
  aliasArn: z.string(),
  targetKeyId: z.uuid(),
  creationDate: z.number(),
  lastUpdatedDate: z.number(),
});

const storeFileSchema = z.object({
  version: z.literal(1),
  keys: z.array(keyRecordSchema),
  aliases: z.array(aliasRecordSchema),
});

export type KeyRecord = z.infer<typeof keyRecordSchema>;
export type AliasRecord = z.infer<typeof aliasRecordSchema>;

/** Key material parsed once per key and process. */
export interface EcMaterial {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Private scalar, for signing digests. */
  d: bigint;
  /** Public point, for verifying digests. */
  q: { x: bigint; y: bigint };
}

/**
 * The emulator's keys and aliases: held in memory, persisted as one JSON file under `<dataDir>/kms/`
 * after every change (written to a temporary file, synced, then renamed over the old one, so a crash
 * leaves either the old or the new file). Writes are serialised in call order.
 *
 * The file holds private key material in clear: it is a local development store, created owner-only.
 *
 * One process at a time: the store holds `<dataDir>/kms/emulator.lock` (its process id and owner) from
 * {@link KmsKeyStore.open} to {@link KmsKeyStore.release}, and another open of the same directory, in
 * this process or another, throws `StoreInUseError` naming that process (review R53 F2: a second writer's
 * changes were overwritten by the first's next write, a new key's material lost).
 */
export class KmsKeyStore {
  readonly keys = new Map<string, KeyRecord>();
  readonly aliases = new Map<string, AliasRecord>();
  private readonly ecMaterial = new Map<string, EcMaterial>();
  private readonly rsaMaterial = new Map<string, { privateKey: KeyObject; publicKey: KeyObject }>();
  private writes: Promise<void> = Promise.resolve();
  private writeCount = 0;

  private constructor(
    private readonly file: string,
    /** Removes the lock; the store must not be written after. */
    readonly release: () => Promise<void>,
  ) {}

  /**
   * Opens (or creates) the store of `dataDir`, taking its lock for `owner` (what the message of another
   * open names: `npm start`, `npm run local:kms`); a corrupt file fails loudly rather than losing keys.
   */
  static async open(dataDir: string, owner = 'a KMS emulator'): Promise<KmsKeyStore> {
    const dir = join(dataDir, 'kms');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const release = await acquireStoreLock(join(dir, 'emulator.lock'), owner);
    try {
      return await KmsKeyStore.load(new KmsKeyStore(join(dir, 'keys.json'), release));
    } catch (error) {
      await release();
      throw error;
    }
  }

  private static async load(store: KmsKeyStore): Promise<KmsKeyStore> {
    let text: string | undefined;
    try {
      text = await readFile(store.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const parsed = storeFileSchema.safeParse(JSON.parse(text));
      if (!parsed.success) {
        throw new Error(`KMS emulator store ${store.file} is not valid: ${z.prettifyError(parsed.error)}`);
      }
      for (const key of parsed.data.keys) store.keys.set(key.keyId, key);
      for (const alias of parsed.data.aliases) store.aliases.set(alias.aliasName, alias);
    }
    return store;
  }

  /** Writes the current state; resolves once this state (or a later one) is on disk. */
  persist(): Promise<void> {
    const snapshot = JSON.stringify(
      { version: 1, keys: [...this.keys.values()], aliases: [...this.aliases.values()] },
      null,
      2,
    );
    const temp = `${this.file}.${process.pid}.${++this.writeCount}.tmp`;
    const write = this.writes.then(async () => {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(snapshot, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, this.file);
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  /** Resolves when every write requested so far has finished. */
  flushed(): Promise<void> {
    return this.writes;
  }

  ec(key: KeyRecord): EcMaterial {
    let material = this.ecMaterial.get(key.keyId);
    if (!material) {
      const privateKey = createPrivateKey(key.material);
      const jwk = privateKey.export({ format: 'jwk' });
      const scalar = (value: string | undefined): bigint =>
        bytesToBigInt(Buffer.from(value ?? '', 'base64url'));
      material = {
        privateKey,
        publicKey: createPublicKey(privateKey),
        d: scalar(jwk.d),
        q: { x: scalar(jwk.x), y: scalar(jwk.y) },
      };
      this.ecMaterial.set(key.keyId, material);
    }
    return material;
  }

  /** An RSA key's private and public halves, parsed once per key and process. */
  rsa(key: KeyRecord): { privateKey: KeyObject; publicKey: KeyObject } {
    let material = this.rsaMaterial.get(key.keyId);
    if (!material) {
      const privateKey = createPrivateKey(key.material);
      material = { privateKey, publicKey: createPublicKey(privateKey) };
      this.rsaMaterial.set(key.keyId, material);
    }
    return material;
  }

  secret(key: KeyRecord): Buffer {
    return Buffer.from(key.material, 'base64');
  }
}

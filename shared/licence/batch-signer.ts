/**
 * Batch keys (存量证照电子化, docs/batch-issuance.md): one KMS signature per batch key, not per licence.
 *
 * A batch key is an ES256 key pair made in this container's memory. The issuer's KMS key signs one
 * certificate for it (a `batch-key+jwt` over `{ iss, kid, jwk, nbf, exp }`), stored on the issuer record
 * and so published in the trust list's entry (`batchKeys`); credentials are then signed by the batch key
 * exactly as single credentials are signed by the issuer's key (same claims, same size, header `kid` the
 * batch key's). The private key is never stored, logged or exported: it lives in a closure until the key
 * reaches its limits (its window of `seconds`, or `credentials` signatures), and is then forgotten.
 *
 * @packageDocumentation
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { batchKeyCertificateType } from '../../packages/verifier/src/trust-list.js';
import type { Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import { lowS } from '../crypto/der.js';
import type { Signer } from '../crypto/signer.js';
import { ConflictError } from '../errors.js';
import type { Issuer, IssuerBatchKey } from '../issuers/issuer.js';
import type { IssuerStore } from '../issuers/issuer-store.js';
import { logger } from '../logger.js';
import { issuerUrl } from './issue-licence.js';

/** A batch key's limits: it signs for at most `seconds`, and at most `credentials` times. */
export interface BatchKeyLimits {
  seconds: number;
  credentials: number;
}

export interface BatchSignerDependencies {
  issuers: Pick<IssuerStore, 'findById' | 'save'>;
  /** The issuer's KMS key, which certifies each batch key (one KMS Sign per batch key). */
  signerFor(keyId: string): Signer;
  clock: Clock;
  issuerUrl: string;
  limits: BatchKeyLimits;
}

/**
 * How far back a new key's window may start to cover a credential whose issuance time was pinned just
 * before the key was made (the slot is reserved before the credential is signed). An older pinned time (a
 * retry after a crash) is signed by the issuer's KMS key instead: a batch key never covers the past.
 */
const BACKDATE_LIMIT_MS = 5 * 60_000;
/** Attempts to add a key to the issuer record when concurrent writers move its version on. */
const SAVE_ATTEMPTS = 5;

/**
 * The most an issuer record's batch keys may weigh (their JSON, bytes) for another to be certified: 128 KiB,
 * about 135 keys (a key is about 970 bytes of JSON). Every key stays on the record and in the trust list for as long
 * as what it signed may be valid, and both are single DynamoDB items of at most 400 KB: past this, new keys
 * would in time make the issuer record unsavable (every later write of it, a rotation or withdrawal
 * included, refused) and crowd the trust list. So past it no key is certified: the issuer's batch items
 * are signed by its KMS key, one Sign each as single issuance does (slower, on the KMS quota, never
 * refused), logged as an error (`batch keys full`) until batch keys move to a document of their own
 * (docs/batch-issuance.md, "How many batch keys"). Review R36 M1.
 */
export const BATCH_KEYS_MAX_BYTES = 128 * 1024;

/**
 * The JSON bytes of an issuer record's batch keys, as {@link BATCH_KEYS_MAX_BYTES} weighs them: every key
 * on the record, those certified by an issuer key since withdrawn included (no longer published, but still
 * stored: the bound protects the record's size, review R40 L1).
 */
function batchKeyBytes(issuer: Pick<Issuer, 'batchKeys'>): number {
  return Buffer.byteLength(JSON.stringify(issuer.batchKeys ?? []), 'utf8');
}

interface LiveKey {
  kid: string;
  /** The kid of the issuer key that certified it: a key rotation or withdrawal retires it here too. */
  certifiedBy: string;
  nbf: number;
  exp: number;
  used: number;
  /** The issuer record's version once it listed this key: an older read (eventually consistent) proves nothing. */
  listedIn: number;
  signer: Signer;
}

/**
 * The batch keys of one container, per issuer, shared by every batch job it runs: a key is reused across
 * jobs of the same issuer until it reaches its limits, so an import of 10,000 licences in 10 jobs makes one
 * KMS signature, not ten.
 *
 * @example
 * ```ts
 * const batchSigners = new BatchSigners({ issuers, signerFor, clock, issuerUrl, limits: { seconds: 86_400, credentials: 1_000_000 } });
 * await issueLicence(input, context, { ...deps, credentialSigner: (issuer, at) => batchSigners.signerFor(issuer, at) });
 * ```
 */
export class BatchSigners {
  private readonly live = new Map<string, LiveKey>();
  /** One certification at a time per issuer: concurrent items wait for it rather than each make a key. */
  private readonly making = new Map<string, Promise<LiveKey | undefined>>();
  /** Issuers found full here ({@link BATCH_KEYS_MAX_BYTES}): logged once a container, not once an item. */
  private readonly full = new Set<string>();

  constructor(private readonly deps: BatchSignerDependencies) {}

  /**
   * The signer of a credential of `issuer` issued at `issuedAt`: the issuer's live batch key when its window
   * covers `issuedAt` and it may sign once more, else a newly certified one; the issuer's own KMS key when
   * `issuedAt` is older than a new key may cover (a retry of an item whose time was pinned long ago).
   */
  async signerFor(issuer: Issuer & { keyId: string }, issuedAt: Date): Promise<Signer> {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    for (;;) {
      const current = this.usable(issuer, iat);
      if (current) {
        current.used += 1;
        return current.signer;
      }
      const pending = this.making.get(issuer.id);
      if (pending) {
        await pending.catch(() => undefined);
        continue;
      }
      if (this.deps.clock.now() - issuedAt.getTime() > BACKDATE_LIMIT_MS) {
        return this.deps.signerFor(issuer.keyId);
      }
      const made = this.certify(issuer, iat).finally(() => this.making.delete(issuer.id));
      this.making.set(issuer.id, made);
      const key = await made;
      if (!key) return this.deps.signerFor(issuer.keyId);
    }
  }

  /** The live key of `issuer`, if it may sign a credential with this `iat` now. */
  private usable(issuer: Issuer, iat: number): LiveKey | undefined {
    const key = this.live.get(issuer.id);
    if (!key) return undefined;
    const now = this.deps.clock.now() / 1000;
    const withdrawn =
      issuer.version >= key.listedIn &&
      !(issuer.batchKeys?.some((listed) => listed.kid === key.kid) ?? false);
    // A key is kept only while the issuer record read for this item still lists it (a batch key withdrawn
    // from the trust list signs nothing more) and its certifying key is still the issuer's current key.
    if (
      key.used >= this.deps.limits.credentials ||
      now > key.exp ||
      key.certifiedBy !== issuer.kid ||
      withdrawn
    ) {
      // Forgotten: the private key goes with the closure.
      this.live.delete(issuer.id);
      return undefined;
    }
    return iat >= key.nbf && iat <= key.exp ? key : undefined;
  }

  /** Whether `issuer`'s record has room for one more batch key ({@link BATCH_KEYS_MAX_BYTES}). */
  private roomFor(issuer: Pick<Issuer, 'id' | 'batchKeys'>): boolean {
    const bytes = batchKeyBytes(issuer);
    if (bytes < BATCH_KEYS_MAX_BYTES) {
      this.full.delete(issuer.id);
      return true;
    }
    if (!this.full.has(issuer.id)) {
      this.full.add(issuer.id);
      logger.error('batch keys full: signing with the issuer key', {
        issuerId: issuer.id,
        batchKeys: issuer.batchKeys?.length ?? 0,
        bytes,
        maxBytes: BATCH_KEYS_MAX_BYTES,
      });
    }
    return false;
  }

  /**
   * Makes a key pair, has the issuer's KMS key certify it (the one KMS Sign), and adds it to the issuer
   * record (a conditional write, retried on a concurrent change) before it signs anything: a credential is
   * never signed by a key the trust list will not name. Answers undefined when the issuer is no longer
   * active with the same key, or its record has no room for another key ({@link BATCH_KEYS_MAX_BYTES}):
   * the caller then signs with the KMS key, whose checks apply.
   */
  private async certify(issuer: Issuer & { keyId: string }, iat: number): Promise<LiveKey | undefined> {
    // Judged on the record read for this item first: a full issuer costs no KMS call nor read here.
    if (!this.roomFor(issuer)) return undefined;
    const now = Math.floor(this.deps.clock.now() / 1000);
    const nbf = Math.min(now, iat);
    const exp = nbf + this.deps.limits.seconds;
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
    const members = { kty, crv, x, y } as JWK;
    const kid = await calculateJwkThumbprint(members, 'sha256');
    const publicJwk: JWK = { ...members, kid, alg: 'ES256', use: 'sig' };
    const issuerSigner = this.deps.signerFor(issuer.keyId);
    const certificate = await signCompactJws(
      { typ: batchKeyCertificateType },
      {
        iss: issuerUrl(this.deps.issuerUrl, issuer.id),
        kid,
        jwk: { kty, crv, x, y, kid },
        nbf,
        exp,
      },
      issuerSigner,
    );
    const certifiedBy = await issuerSigner.kid();
    const entry: IssuerBatchKey = { kid, publicJwk, nbf, exp, certificate };
    let listedIn: number | undefined;
    for (let attempt = 1; listedIn === undefined; attempt += 1) {
      const fresh = await this.deps.issuers.findById(issuer.id);
      if (!fresh || fresh.status !== 'active' || fresh.kid !== certifiedBy || !this.roomFor(fresh)) {
        return undefined;
      }
      try {
        const saved = await this.deps.issuers.save({
          ...fresh,
          batchKeys: [...(fresh.batchKeys ?? []), entry],
        });
        listedIn = saved.version;
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= SAVE_ATTEMPTS) throw error;
      }
    }
    logger.info('batch key certified', { issuerId: issuer.id, kid, nbf, exp });
    const key: LiveKey = {
      kid,
      certifiedBy,
      nbf,
      exp,
      used: 0,
      listedIn,
      signer: inMemorySigner(privateKey, publicJwk, kid),
    };
    this.live.set(issuer.id, key);
    return key;
  }
}

/** A {@link Signer} over a private key held only here; nothing reads the key back out. */
function inMemorySigner(privateKey: KeyObject, publicJwk: JWK, kid: string): Signer {
  return {
    alg: 'ES256',
    publicJwk: async () => publicJwk,
    kid: async () => kid,
    // Low-S, as `KmsSigner` signs: the verifier refuses the other half.
    sign: async (data) => lowS(sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })),
  };
}

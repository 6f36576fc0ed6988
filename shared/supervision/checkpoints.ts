import { createHash } from 'node:crypto';
import { importJWK, jwtVerify, type JWK, type JWTPayload } from 'jose';
import * as z from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { ConflictError, InvalidInputError, TooManyRequestsError } from '../errors.js';
import { logger } from '../logger.js';
import type { Clock } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import { es256PublicJwkSchema, signingKeySet } from '../crypto/key-set.js';
import type { Signer } from '../crypto/signer.js';
import { randomId } from '../random-id.js';
import type {
  AuditChainStore,
  NewCheckpoint,
  RegisteredChain,
  StoredCheckpoint,
} from './audit-chain-store.js';
import { chainIdPattern, closesDay, closingTime, corruptHead, type ChainHead } from './audit-chain.js';

/** The JWS `typ` of an audit checkpoint. */
export const checkpointTokenType = 'audit-checkpoint+jwt';

/** How many days a checkpoint (or one listing of entries) may span. */
export const maxDaysPerRequest = 31;

const day = z.iso.date();

/** `POST /supervision/audit/checkpoints`: the UTC days whose chains to sign, yesterday and today if absent. */
export const checkpointInput = z
  .strictObject({ from: day.optional(), to: day.optional() })
  .superRefine((input, ctx) => {
    if ((input.from === undefined) !== (input.to === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [input.from ? 'to' : 'from'],
        message: 'give both from and to, or neither',
      });
    } else if (input.from && input.to && !validRange(input.from, input.to)) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `must be from..from+${maxDaysPerRequest - 1} days`,
      });
    }
  });

/**
 * Refuses a `from` or `to` after today (UTC, by `clock`): no chain of a later day exists yet, and a
 * verifier holds a checkpoint naming a day after the one it was signed on to be backdated, so one signed
 * for a future day would stay listed and fail every later verification (security review 22b M2).
 *
 * @example
 * ```ts
 * refuseFutureDays({ from: '2026-12-05', to: '2026-12-06' }, clock); // InvalidInputError naming `to` on 12-05
 * ```
 */
export function refuseFutureDays(input: { from?: string; to?: string }, clock: Clock): void {
  const today = new Date(clock.now()).toISOString().slice(0, 10);
  const errors = (['from', 'to'] as const)
    .filter((field) => input[field] !== undefined && input[field] > today)
    .map((field) => ({
      path: field,
      message: `must not be after today (${today}, UTC)`,
      code: 'too_big' as const,
    }));
  if (errors.length > 0) {
    throw new InvalidInputError(
      `A checkpoint signs days up to today (${today}, UTC) only`,
      'invalid_request',
      {
        errors,
      },
    );
  }
}

/** True when `from`..`to` is at most {@link maxDaysPerRequest} days, in order. */
export function validRange(from: string, to: string): boolean {
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  return span >= 0 && span < maxDaysPerRequest;
}

const headSchema = z
  .object({ chain: z.string(), seq: z.number().int(), hash: z.string() })
  .meta({ title: 'AuditChainHead' });

/**
 * What a checkpoint signs (its JWS payload): a digest of the heads, not the heads, so that the signed item
 * stays a few hundred bytes however many chains there are (security review M4: with the heads inside, at
 * about 1,250 chains a day it passed DynamoDB's 400 KB item limit). The heads are stored apart, in pages,
 * and answered by `GET /supervision/audit/checkpoints/heads?checkpoint=<jti>`.
 */
export const checkpointPayloadSchema = z
  .object({
    iss: z.string(),
    iat: z.number().int(),
    jti: z.string().meta({ description: 'The checkpoint id, `cp_<random>`: where its heads are listed' }),
    days: z.array(z.string()),
    headCount: z.number().int().meta({ description: 'How many heads' }),
    headsDigest: z.string().meta({ description: 'Lowercase hex SHA-256 of the heads (see headsDigest)' }),
  })
  .meta({ title: 'AuditCheckpointPayload' });

/** A stored checkpoint as listed: when, and the compact JWS. */
export const checkpointSchema = z
  .object({
    at: z.string().meta({ description: 'RFC 3339: when it was signed' }),
    jws: z.string().meta({
      description:
        'Compact JWS, header `typ: audit-checkpoint+jwt`, ES256 with the audit key (`kid` in `GET /supervision/audit/keys`; a checkpoint signed before the audit key existed has a platform key `kid`, of /.well-known/jwks.json); payload `{ iss, iat, jti, days, headCount, headsDigest }`: `headsDigest` is the SHA-256 (lowercase hex) of the canonical JSON of the heads `[{ chain, hash, seq }]` sorted by chain, listed by `GET /supervision/audit/checkpoints/heads?checkpoint=<jti>`. A checkpoint of the first format (signed before this change) has `chains: [{ chain, seq, hash }]` in its payload instead.',
    }),
  })
  .meta({ title: 'AuditCheckpoint' });
export const checkpointListSchema = z
  .object({
    items: z.array(checkpointSchema),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Present when older checkpoints follow: pass it back as `cursor`' }),
  })
  .meta({ title: 'AuditCheckpoints', description: 'Newest first' });

/** A checkpoint id (`jti`): `cp_` and 16 base64url characters (shared/random-id.ts). */
export const checkpointIdPattern = /^cp_[A-Za-z0-9_-]{16}$/;

/** `GET /supervision/audit/checkpoints/heads`: a checkpoint's heads, page after `cursor`. */
export const checkpointHeadsQuery = z.strictObject({
  checkpoint: z.string().regex(checkpointIdPattern, 'a checkpoint id (the JWS payload’s jti), cp_…'),
  cursor: z.string().min(1).max(20).optional(),
});
export const checkpointHeadsSchema = z
  .object({
    items: z.array(headSchema),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Present when more heads follow: pass it back as `cursor`' }),
  })
  .meta({
    title: 'AuditCheckpointHeads',
    description:
      'The heads a checkpoint signs, sorted by chain, a page at a time (none for an unknown id, or a checkpoint of the first format)',
  });

/**
 * The `headsDigest` a checkpoint signs: lowercase hex SHA-256 of the UTF-8 bytes of the canonical JSON
 * (shared/canonical-json.ts: keys sorted, no white space) of the heads, in the order given (sorted by chain
 * when signed): `[{"chain":"…","hash":"…","seq":3},…]`. A plain digest rather than a Merkle root: every
 * verifier of a checkpoint reads all of its heads anyway (it recomputes every chain of the days it checks),
 * so a per-chain proof would serve no one, and this one is checked with `sha256sum`.
 *
 * @example
 * ```ts
 * headsDigest([]); // sha256('[]'): '4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945'
 * ```
 */
export function headsDigest(heads: readonly ChainHead[]): string {
  const text = canonicalJson(heads.map(({ chain, seq, hash }) => ({ chain, seq, hash })));
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `GET /supervision/audit/checkpoints`: the page after `cursor` (newest first). */
export const checkpointListQuery = z.strictObject({ cursor: z.string().min(1).max(300).optional() });

/** The days `from`..`to` (inclusive). */
export function daysFrom(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/**
 * Takes the platform-wide slot of an on-demand checkpoint (`POST /supervision/audit/checkpoints`) for
 * `intervalSeconds`, or refuses with {@link TooManyRequestsError} naming when it frees (security review
 * L5): each checkpoint signs through KMS and reads every chain of its days, so a leaked or faulty
 * supervisor credential must not run that at will. Called before any of that work, and the claim is kept
 * whatever follows: a checkpoint that then fails to sign leaves the slot taken until the interval ends, no
 * longer (the claim is a time, not a lock released by the signing). The daily schedule does not call it.
 *
 * @example
 * ```ts
 * await claimOnDemand({ auditChains, clock, intervalSeconds: config.auditCheckpointIntervalSeconds });
 * await signCheckpoint(input, deps);
 * ```
 */
export async function claimOnDemand(deps: {
  auditChains: AuditChainStore;
  clock: Clock;
  intervalSeconds: number;
}): Promise<void> {
  const now = deps.clock.now();
  const claim = await deps.auditChains.claimOnDemand(now, now + deps.intervalSeconds * 1000);
  if (claim.claimed) return;
  throw new TooManyRequestsError(
    'An on-demand checkpoint was signed less than the interval ago; retry after the time in Retry-After',
    Math.max(1, Math.ceil((claim.until - now) / 1000)),
  );
}

/**
 * Signs a checkpoint of the heads of every chain started on the given UTC days (yesterday and today by
 * default: a chain lives at most one UTC day, so the daily run sees each chain's final head the day after),
 * and stores it, its heads first (a checkpoint is never listed without them). Each head is read from the
 * table (the chain's last entry), not from the writers' memory. The JWS signs their count and
 * {@link headsDigest}, so its size does not grow with the number of chains.
 *
 * 1. The days, refused after today.
 * 2. Each day's chains and their heads, as the table holds them now.
 * 3. A day already closed (a verified checkpoint signed after it ended names it, `closesDay`) is signed
 *    again only with the heads its earliest closing checkpoint signed: otherwise this refuses with
 *    {@link ConflictError} `audit_day_closed`, naming the day and a chain (R24 H1). No writer appends to a
 *    chain of a day that has ended, so different heads are entries appended, removed or a chain added since
 *    the day was closed, and signing them would bless that.
 * 4. The payload signed, and stored with its heads.
 *
 * @example
 * ```ts
 * const { jws } = await signCheckpoint({}, { auditChains, auditSigner, clock, iss: config.issuerUrl });
 * ```
 */
export async function signCheckpoint(
  input: z.output<typeof checkpointInput>,
  deps: {
    auditChains: AuditChainStore;
    auditSigner: Signer;
    /** The earlier audit key generations, whose closing checkpoints step 3 verifies too. */
    auditPreviousSigners?: ReadonlyArray<Signer & { keyId?: string }>;
    clock: Clock;
    iss: string;
  },
): Promise<NewCheckpoint & { chains: ChainHead[] }> {
  // 1.
  refuseFutureDays(input, deps.clock);
  const now = deps.clock.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const yesterday = new Date(now - 86_400_000).toISOString().slice(0, 10);
  const days = daysFrom(input.from ?? yesterday, input.to ?? today);
  // 2.
  const chains = (
    await Promise.all(
      days.map(async (d) => {
        const registered = await deps.auditChains.chainsOf(d);
        return Promise.all(registered.map((chain) => headOrFault(chain, deps.auditChains)));
      }),
    )
  )
    .flat()
    // A chain with no head has no entry: its registration landed and its first entry's write did not. The
    // store reads a chain where its writer's id puts it (never where its registration says, which any
    // writer may overwrite: review R52), so a chain with entries always has a head here; one whose last
    // entry is corrupt is signed as such (`corruptHead`, review R57 F2), never left out.
    .filter((head): head is ChainHead => head !== undefined)
    .sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  // 3. Only the earliest closing checkpoint of each closed day is read whole (its heads): the one the
  //    check holds the day to.
  const closed = days.filter((day) => closingTime(day) <= now);
  if (closed.length > 0) {
    const earliest = (signed: ReadonlyArray<{ iat: number; days: readonly string[] }>, day: string) =>
      signed.reduce<number | undefined>(
        (found, one, index) =>
          one.days.includes(day) &&
          closesDay(one.iat, day) &&
          (found === undefined || one.iat < signed[found]!.iat)
            ? index
            : found,
        undefined,
      );
    /** Each closed day's earliest closing checkpoint among those whose signature verified: its `iat`. */
    const byDay = new Map<string, number>();
    const { checkpoints } = await storedCheckpoints(
      { ...deps, auditPreviousSigners: deps.auditPreviousSigners ?? [] },
      {
        since: new Date(closingTime(closed[0]!)).toISOString(),
        days: closed,
        pick: (signed) => {
          const picked = new Set<number>();
          for (const day of closed) {
            const index = earliest(signed, day);
            if (index === undefined) continue;
            picked.add(index);
            byDay.set(day, signed[index]!.iat);
          }
          return picked;
        },
      },
    );
    for (const day of closed) {
      const iat = byDay.get(day);
      if (iat === undefined) continue;
      const first = checkpoints.find((one) => one.iat === iat && one.days.includes(day));
      // Its closing checkpoint's heads unreadable (a page altered or removed): fail closed, never sign
      // over it.
      const change = first
        ? headsChange(ofDay(first.chains, day), ofDay(chains, day))
        : {
            chain: '-',
            problem: "its closing checkpoint's heads do not match its digest (a page altered or removed)",
          };
      if (change) {
        logger.error(auditCheckpointLogLines.refused, { day, chain: change.chain });
        throw new ConflictError(
          `${day} was closed${first ? ` by the checkpoint of ${new Date(first.iat * 1000).toISOString()}` : ''}, and its chains no longer end at the heads it signs (${change.chain}: ${change.problem}): not signed again (run npm run audit:verify for the day; docs/operating.md, "The audit trail's closing checkpoints")`,
          'audit_day_closed',
        );
      }
    }
  }
  // 4.
  const iat = Math.floor(now / 1000);
  const id = randomId('cp');
  const payload = {
    iss: deps.iss,
    iat,
    jti: id,
    days,
    headCount: chains.length,
    headsDigest: headsDigest(chains),
  } satisfies z.output<typeof checkpointPayloadSchema>;
  const jws = await signCompactJws({ typ: checkpointTokenType }, payload, deps.auditSigner);
  const checkpoint = { id, at: new Date(iat * 1000).toISOString(), jws };
  await deps.auditChains.saveCheckpoint(checkpoint, chains);
  return { ...checkpoint, chains };
}

/**
 * The chain's head, or {@link corruptHead} when its last entry holds no valid `seq` and `hash`
 * (`audit_chain_head_corrupt`, logged): the other chains are signed all the same (review R57 F2: any
 * writer's role may register a chain of its own and leave such an entry in it).
 */
async function headOrFault(chain: RegisteredChain, store: AuditChainStore): Promise<ChainHead | undefined> {
  try {
    return await store.headOf(chain);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'audit_chain_head_corrupt') throw error;
    logger.error(auditCheckpointLogLines.corruptChain, { chain: chain.chain });
    return corruptHead(chain.chain);
  }
}

/** The lines the audit function logs of checkpoints: the stack counts `signed` (a day without one alarms). */
export const auditCheckpointLogLines = {
  /** A chain's last entry corrupt: signed as such (`corruptHead`), a fault of the daily check. */
  corruptChain: 'audit checkpoint: a chain’s last entry is corrupt, signed as a fault',
  /** The daily scheduled checkpoint signed and stored. */
  signed: 'audit checkpoint signed',
  /** A checkpoint refused: a closed day's chains no longer end at its closing heads. */
  refused: 'audit checkpoint refused: a closed day changed',
} as const;

const ofDay = (heads: readonly ChainHead[], day: string) =>
  heads.filter((head) => chainIdPattern.exec(head.chain)?.[1] === day);

/** The first chain whose head differs between `signed` and `now` (added, gone, or at another seq or hash). */
function headsChange(
  signed: readonly ChainHead[],
  now: readonly ChainHead[],
): { chain: string; problem: string } | undefined {
  const before = new Map(signed.map((head) => [head.chain, head]));
  const after = new Map(now.map((head) => [head.chain, head]));
  for (const chain of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [was, is] = [before.get(chain), after.get(chain)];
    if (!was) return { chain, problem: 'a chain the closing checkpoint does not name' };
    if (!is) return { chain, problem: `signed up to seq ${was.seq}, now without a head` };
    if (was.seq !== is.seq || was.hash !== is.hash) {
      return { chain, problem: `signed up to seq ${was.seq}, now at seq ${is.seq}` };
    }
  }
  return undefined;
}

/** A checkpoint whose signature verified (an audit key, `typ`, issuer) and whose heads are held to it. */
export interface VerifiedCheckpoint {
  iat: number;
  kid: string;
  days: string[];
  chains: ChainHead[];
}

/** How many checkpoints a page of the store lists while looking for those of some days. */
const CHECKPOINTS_PER_PAGE = 50;

/**
 * The checkpoints the store lists signed at or after `since` (RFC 3339) that name any of `days`, each
 * verified with the audit key set (every generation: ES256, `typ`, issuer `iss`) and its heads read and
 * held to its signed count and digest ({@link signedHeads}); those that do not verify (signature or heads)
 * are answered apart (`bad`), never among `checkpoints`. Newest first, as listed. `pick`, given the
 * checkpoints whose signature verified (newest first), chooses those whose heads to read (by index): the
 * others are left out, unread. Read with the store's own read access: used by the daily check and by the
 * signer (step 3 of {@link signCheckpoint}).
 *
 * @example
 * ```ts
 * const { checkpoints, bad } = await storedCheckpoints(deps, { since: '2026-12-05T00:00:00', days: ['2026-12-05'] });
 * ```
 */
export async function storedCheckpoints(
  deps: {
    auditChains: AuditChainStore;
    auditSigner: Signer;
    auditPreviousSigners: ReadonlyArray<Signer & { keyId?: string }>;
    iss: string;
  },
  range: {
    since: string;
    days: readonly string[];
    pick?: (signed: ReadonlyArray<{ iat: number; days: readonly string[] }>) => ReadonlySet<number>;
  },
): Promise<{ checkpoints: VerifiedCheckpoint[]; bad: Array<{ at: string; problem: string }> }> {
  const asked = new Set(range.days);
  const { set } = await auditKeySet(deps);
  const keys = new Map<string, JWK>(set.keys.map((jwk) => [jwk.kid, jwk]));
  const listed: StoredCheckpoint[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.auditChains.checkpoints(CHECKPOINTS_PER_PAGE, cursor);
    listed.push(...page.items.filter((one) => one.at >= range.since));
    cursor = page.cursor;
  } while (cursor && (listed.at(-1)?.at ?? '') >= range.since);
  const signed: Array<{ at: string; iat: number; kid: string; days: string[]; payload: JWTPayload }> = [];
  const bad: Array<{ at: string; problem: string }> = [];
  for (const { at, jws } of listed) {
    try {
      const { payload, protectedHeader } = await jwtVerify(
        jws,
        async (header) => {
          const jwk = header.kid === undefined ? undefined : keys.get(header.kid);
          if (!jwk) throw new Error(`no audit key has kid ${String(header.kid)}`);
          return importJWK({ ...jwk, alg: 'ES256' }, 'ES256');
        },
        { typ: checkpointTokenType, algorithms: ['ES256'], issuer: deps.iss },
      );
      const days = payload.days as string[];
      if (!days.some((day) => asked.has(day))) continue;
      signed.push({ at, iat: Number(payload.iat), kid: String(protectedHeader.kid), days, payload });
    } catch (error) {
      bad.push({ at, problem: (error as Error).message });
    }
  }
  const picked = range.pick?.(signed);
  const checkpoints: VerifiedCheckpoint[] = [];
  for (const [index, { at, iat, kid, days, payload }] of signed.entries()) {
    if (picked && !picked.has(index)) continue;
    try {
      const chains = await signedHeads(payload, (id, next) => deps.auditChains.checkpointHeads(id, next));
      checkpoints.push({ iat, kid, days, chains });
    } catch (error) {
      bad.push({ at, problem: (error as Error).message });
    }
  }
  return { checkpoints, bad };
}

/**
 * The heads a verified checkpoint signs: in its payload (the first format), or read page by page (`read`:
 * `GET /supervision/audit/checkpoints/heads`, or the store itself) and trusted only if they are as many
 * as its `headCount` and hash to its `headsDigest`; `kept`, heads an archive kept, are held to the same.
 * A page altered or missing (or a set half written) throws: a bad checkpoint, never "ok".
 *
 * @example
 * ```ts
 * const heads = await signedHeads(payload, (id, cursor) => auditChains.checkpointHeads(id, cursor));
 * ```
 */
export async function signedHeads(
  payload: JWTPayload,
  read: (checkpoint: string, cursor?: string) => Promise<{ items: ChainHead[]; cursor?: string }>,
  kept?: readonly ChainHead[],
): Promise<ChainHead[]> {
  if (Array.isArray(payload.chains)) return payload.chains as ChainHead[];
  const { jti, headCount, headsDigest: digest } = payload as Record<string, unknown>;
  if (
    typeof jti !== 'string' ||
    !checkpointIdPattern.test(jti) ||
    typeof digest !== 'string' ||
    !Number.isSafeInteger(headCount)
  ) {
    throw new Error('its payload has neither heads nor an id, count and digest of them');
  }
  const count = headCount as number;
  const heads: ChainHead[] = [];
  if (kept) {
    heads.push(...kept);
  } else {
    let next: string | undefined;
    let pages = 0;
    do {
      const answer = await read(jti, next);
      heads.push(...answer.items);
      next = answer.cursor;
      pages += 1;
      // Never more pages than heads (each holds at least one): a listing that does not end is a fault.
    } while (next && heads.length <= count && pages <= count);
  }
  if (heads.length !== count || headsDigest(heads) !== digest) {
    throw new Error(
      kept
        ? `the heads kept with it do not match its headsDigest (${heads.length} kept of ${count} signed)`
        : `its heads do not match its headsDigest (${heads.length} answered of ${count} signed: a page of them altered, missing or not yet written)`,
    );
  }
  return heads.map(({ chain, seq, hash }) => ({ chain, seq, hash }));
}

const auditKeySchema = es256PublicJwkSchema(
  'AuditKey',
  'The RFC 7638 thumbprint of the key: a checkpoint header’s `kid`',
);

/** `GET /supervision/audit/keys`: every audit-checkpoint key generation, the signing one first. */
export const auditKeySetSchema = z.object({ keys: z.array(auditKeySchema) }).meta({
  title: 'AuditKeys',
  description:
    'A JWK Set of every key that has signed audit checkpoints, the current one first. Keys are added, never removed: an archive keeps each kid’s key, and a kid that later answers another key, or disappears, is a fault (docs/supervision.md).',
});

/**
 * The audit key set: the public key of the signing audit key and of every earlier generation (a key
 * leaves KMS never, and this list never: a checkpoint must verify for as long as the trail is kept, well
 * beyond the platform key's rotations). Each key's `kid` is its RFC 7638 thumbprint, as its checkpoints'.
 *
 * Fails closed without failing whole (security review L2): an earlier generation whose public key cannot
 * be read is left out and logged (its key id, which is no secret), so that the keys that could be read
 * still verify their checkpoints and a verifier's archive reports the missing kid as dropped, rather than
 * every verification stopping at a 500. `complete` is then false (not to be cached). The signing key
 * unreadable is {@link UnavailableError} (503): without it no current checkpoint verifies, and a set
 * without it must never be taken for the whole.
 *
 * @example
 * ```ts
 * const { set, complete } = await auditKeySet({ auditSigner, auditPreviousSigners });
 * ```
 */
export async function auditKeySet(deps: {
  auditSigner: Signer;
  auditPreviousSigners: ReadonlyArray<Signer & { keyId?: string }>;
}): Promise<{ set: z.output<typeof auditKeySetSchema>; complete: boolean }> {
  const { keys, complete } = await signingKeySet(deps.auditSigner, deps.auditPreviousSigners, {
    unavailable: 'The audit signing key cannot be read now; retry later',
    leftOut: 'an earlier audit key generation cannot be read: left out of the audit key set',
    logReason: true,
  });
  return { set: { keys: keys.map((jwk) => auditKeySchema.parse(jwk)) }, complete };
}

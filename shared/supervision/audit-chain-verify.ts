import {
  calculateJwkThumbprint,
  importJWK,
  jwtVerify,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { checkTrail, closesDay, closingTime, type ChainFault, type ChainHead } from './audit-chain.js';
import { misattributedEntries } from '../audit/audit-writers.js';
import { checkpointTokenType, daysFrom, signedHeads, type VerifiedCheckpoint } from './checkpoints.js';

export type { VerifiedCheckpoint } from './checkpoints.js';

/** Where and as whom `npm run audit:verify` reads the trail. */
export interface AuditVerifyOptions {
  /** The service's base URL (its OpenID issuer), e.g. `http://localhost:3000`. */
  base: string;
  /** A client holding the scope `supervision` (client credentials)… */
  clientId?: string;
  clientSecret?: string;
  /** …or an access token of one (the supervision page's session has a token, not the secret). */
  accessToken?: string;
  /** UTC days, `YYYY-MM-DD`, inclusive. */
  from: string;
  to: string;
  /** Ask the service to sign a fresh checkpoint first (`POST /supervision/audit/checkpoints`). */
  checkpointFirst?: boolean;
  /**
   * Accept days with entries that no verified checkpoint covers (their chains are recomputed, but nothing
   * signed proves they were not rewritten whole). Off by default: such a day is a fault.
   */
  allowUnsigned?: boolean;
  /**
   * The UTC day chains were introduced (`YYYY-MM-DD`): an entry without chain fields dated on or after it
   * is a fault. Default: the earliest chain day among the entries listed.
   */
  chainsSince?: string;
  /**
   * Checkpoints kept from earlier runs (`{ at, jws }`, as listed): each must still be listed (unless older
   * than every checkpoint this run listed), its heads still reached, and no newer checkpoint may sign a
   * chain's head lower than it did. The report's `archive` is the union to keep for the next run.
   */
  archive?: ReadonlyArray<ArchivedCheckpoint>;
  /**
   * The public keys kept from earlier runs, one per `kid` that signed a checkpoint: an archived key
   * verifies its checkpoints even once the service no longer lists it, and the service answering another
   * key under its kid, or (for an audit key) no longer listing it, is a fault. The report's `archiveKeys`
   * is the union to keep for the next run.
   */
  archiveKeys?: ReadonlyArray<ArchivedKey>;
  /**
   * RFC 3339 with `Z` or a UTC offset: the instant the audit key took over, from the operator's deploy
   * record (the deployment that introduced it). While an audit key exists, a checkpoint signed with a
   * platform key is accepted only if its `iat` is earlier than this (and than every audit-key checkpoint
   * the run sees), or if an earlier run accepted it so and archived it with its key (security review M1,
   * 22b H1): the platform key is held by internet-facing functions, and nothing the service answers
   * (which checkpoints it lists, when this verifier first saw a key) may date the cut-over.
   */
  platformCheckpointsUntil?: string;
  /**
   * Hold each licence entry of the range to its licence's list (`GET /supervision/audit?licence=`, every
   * page up to the range's last place on it): an entry taken off its list leaves its chain intact, so only
   * reading the list shows it ({@link offListFaults}). Default `true`; the supervision page's trail check,
   * which holds one page of one list to its own stretch, passes `false`.
   */
  licenceLists?: boolean;
  /** Entries a page of a licence's list is asked for (1..1000, default 1000). */
  licenceListPageSize?: number;
  /**
   * Report the service's own finding that an entry is off its licence's list (`listed: false` beside the
   * day range's entries). Default `true`; the supervision page's trail check, which names only the
   * entries of its own page's stretch, passes `false`.
   */
  listFindings?: boolean;
  /**
   * The UTC day from which chains are held to the actions of the function whose shard they are in
   * (shared/audit/audit-writers.ts, R31 M1). Default: `auditAttributionSince` there, the day it was released.
   */
  attributionSince?: string;
  /**
   * Epoch milliseconds: the verifier's time, which says which days are past (each needs a closing
   * checkpoint, `unsignedDays`). Default: the clock of the machine running it.
   */
  now?: number;
  fetch?: typeof fetch;
}

/**
 * A public key a supervisor keeps: every audit key the audit set lists (`audit`: `GET
 * /supervision/audit/keys`, which never drops a key), from the first run that saw it listed; and a platform
 * key the first time a checkpoint verified under its `kid` (`platform`: the JWKS, for checkpoints signed
 * before the audit key existed, which drops a key once the platform key has rotated).
 */
export interface ArchivedKey {
  kid: string;
  set: 'audit' | 'platform';
  jwk: JWK;
  /** RFC 3339: when this verifier first saw the key (listed, for an audit key; signing, for a platform key). */
  firstSeen: string;
}

/**
 * A checkpoint kept by a supervisor: as listed (`at`, `jws`), and for a checkpoint that signs a digest of
 * its heads, the heads this verifier read and held to that digest, so that the archive alone proves them
 * (an archived checkpoint's heads are then taken from here, checked against its digest again, not read
 * from the service).
 */
export interface ArchivedCheckpoint {
  at: string;
  jws: string;
  heads?: ChainHead[];
}

export interface AuditVerifyReport {
  ok: boolean;
  entries: number;
  unchained: number;
  chains: ChainHead[];
  /** The checkpoints that verified and cover a day asked for, newest first. */
  checkpoints: VerifiedCheckpoint[];
  /** Every bad chain's first fault, the first one first. */
  faults: ChainFault[];
  /** Checkpoints that did not verify (signature, `typ`, issuer, heads against their digest): any is a failure. */
  badCheckpoints: string[];
  /**
   * The archived checkpoints and those listed now, newest first, each with the heads read and held to its
   * digest where there were any: what to keep for the next run.
   */
  archive: ArchivedCheckpoint[];
  /** The keys that verified a checkpoint, archived or seen this run: what to keep for the next run. */
  archiveKeys: ArchivedKey[];
  /** The entries read, as answered: for a caller that also checks what a listing of its own left out. */
  items: Record<string, unknown>[];
  /**
   * One per item, as answered beside it: its place in its licence's list (opaque, ordered as text as that
   * list is), `null` for an entry about no licence or one the API answered none for.
   */
  positions: Array<string | null>;
}

interface Answer {
  status: number;
  body: unknown;
}

/**
 * Verifies the audit trail of the UTC days `from`..`to` using only the public API: a client-credentials
 * token (scope `supervision`), the audit key set (`GET /supervision/audit/keys`) and, for checkpoints
 * signed before it existed, the platform's JWKS (from the issuer's discovery document), each kid's key
 * held to the archived one (`archiveKeys`), the checkpoints (`GET /supervision/audit/checkpoints`, each signature verified: ES256, `typ`
 * `audit-checkpoint+jwt`, the discovery's `issuer`), their heads (`GET /supervision/audit/checkpoints/heads`,
 * every page, held to the signed count and `headsDigest`; a checkpoint of the first format carries them)
 * and the entries (`GET /supervision/audit`, every page).
 * Every chain is recomputed (shared/supervision/audit-chain.ts `checkTrail`) and every head a verified
 * checkpoint signs for those days must be reached with the same hash; a withdrawal saved in several writes
 * must have each of its parts on the trail ({@link withdrawalPartFaults}). docs/supervision.md has the rules.
 *
 * @example
 * ```ts
 * const report = await verifyAuditTrail({ base, clientId, clientSecret, from: '2026-12-05', to: '2026-12-05' });
 * if (!report.ok) console.error(report.faults[0]);
 * ```
 */
export async function verifyAuditTrail(options: AuditVerifyOptions): Promise<AuditVerifyReport> {
  const get = options.fetch ?? fetch;
  const base = options.base.replace(/\/+$/, '');
  let lastRetryAfter: string | null = null;
  /** The last refusal's `Retry-After`, in seconds, if it named at most two minutes. */
  const retryAfterSeconds = () => {
    const seconds = Number(lastRetryAfter);
    return Number.isInteger(seconds) && seconds >= 0 && seconds <= 120 ? seconds : undefined;
  };
  const call = async (path: string, init: RequestInit = {}): Promise<Answer> => {
    const response = await get(`${base}${path}`, init);
    lastRetryAfter = response.headers.get('retry-after');
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text for the error message
    }
    if (!response.ok)
      throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${text.slice(0, 300)}`);
    return { status: response.status, body };
  };

  const discovery = (await call('/.well-known/openid-configuration')).body as {
    issuer: string;
    jwks_uri: string;
    token_endpoint: string;
  };
  const jwksResponse = await get(discovery.jwks_uri);
  if (!jwksResponse.ok) throw new Error(`GET ${discovery.jwks_uri}: ${jwksResponse.status}`);
  const platformKeys = ((await jwksResponse.json()) as JSONWebKeySet).keys;
  const auditKeys = ((await call('/supervision/audit/keys')).body as JSONWebKeySet).keys;
  const keyFaults: ChainFault[] = [];
  const keys = await checkedKeys(auditKeys, platformKeys, options.archiveKeys ?? [], keyFaults);

  const token = options.accessToken ?? (await clientCredentialsToken(get, discovery.token_endpoint, options));
  const auth = { authorization: `Bearer ${token}` };

  const refusedCheckpoint: ChainFault[] = [];
  if (options.checkpointFirst) {
    const sign = () =>
      call('/supervision/audit/checkpoints', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ from: options.from, to: options.to }),
      });
    try {
      try {
        await sign();
      } catch (error) {
        // Another on-demand checkpoint was signed within the platform's interval (429): wait as told, once,
        // so that the checkpoint this run verifies against is signed after it began.
        const wait = /: 429 /.test((error as Error).message) ? retryAfterSeconds() : undefined;
        if (wait === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
        await sign();
      }
    } catch (error) {
      // A day asked for was closed, and its chains no longer end where its closing checkpoint says (409
      // `audit_day_closed`): the service will not bless that. A finding, not a failure to run: the check
      // goes on (it names the chain against the closing checkpoint) and fails.
      if (!/: 409 /.test((error as Error).message)) throw error;
      refusedCheckpoint.push({
        chain: '-',
        seq: 0,
        problem: `the service refused to sign a checkpoint: ${(error as Error).message}`,
      });
    }
  }

  const asked = new Set(daysFrom(options.from, options.to));
  // Newest first, page by page, down to the first signed before the range began: no earlier one can name
  // a chain of those days (a chain is started on its day).
  const listed: Array<{ at: string; jws: string }> = [];
  let page: string | undefined;
  do {
    const answer = (
      await call(`/supervision/audit/checkpoints${page ? `?cursor=${encodeURIComponent(page)}` : ''}`, {
        headers: auth,
      })
    ).body as { items: Array<{ at: string; jws: string }>; cursor?: string };
    listed.push(...answer.items);
    page = answer.cursor;
  } while (page && (listed.at(-1)?.at ?? '') >= `${options.from}T00:00:00`);
  const complete = page === undefined;
  const checkpoints: VerifiedCheckpoint[] = [];
  const badCheckpoints: string[] = [];
  const archiveFaults: ChainFault[] = [];
  const archived: VerifiedCheckpoint[] = [];
  const listedJws = new Set(listed.map((one) => one.jws));
  const oldestListed = listed.at(-1)?.at ?? '';

  /**
   * The signature, `typ`, algorithm and issuer of a checkpoint checked, with the key its `kid` names:
   * the archived one if kept (whatever the service lists now), else the audit key set's, else (a
   * checkpoint signed before the audit key existed) the platform JWKS's. Its payload and key id.
   */
  const signed = async (jws: string) => {
    const { payload, protectedHeader } = await jwtVerify(jws, (header) => keys.keyFor(header.kid), {
      typ: checkpointTokenType,
      algorithms: ['ES256'],
      issuer: discovery.issuer,
    });
    const kid = String(protectedHeader.kid);
    return { payload, iat: Number(payload.iat), kid, set: keys.setOf(kid), days: payload.days as string[] };
  };
  /** The heads a verified checkpoint signs ({@link signedHeads}), read from the service's listing. */
  const headsOf = (payload: JWTPayload, kept?: readonly ChainHead[]): Promise<ChainHead[]> =>
    signedHeads(
      payload,
      async (checkpoint, next) => {
        const query = new URLSearchParams({ checkpoint, ...(next ? { cursor: next } : {}) });
        return (await call(`/supervision/audit/checkpoints/heads?${query}`, { headers: auth })).body as {
          items: ChainHead[];
          cursor?: string;
        };
      },
      kept,
    );
  /** The heads read and held to their checkpoint's digest (not of the first format), by JWS: archived. */
  const headsRead = new Map<string, ChainHead[]>();
  const headsOfSigned = async (jws: string, payload: JWTPayload, kept?: readonly ChainHead[]) => {
    const heads = await headsOf(payload, kept);
    if (!Array.isArray(payload.chains)) headsRead.set(jws, heads);
    return heads;
  };

  // Every signature first (listed and archived): which key may sign a checkpoint of when depends on what
  // the audit key signed (security review M1, L3), so nothing is accepted before all are known.
  type Signed = Awaited<ReturnType<typeof signed>>;
  /** Listed checkpoints refused or unverifiable: not archived (an archived one proves it was accepted). */
  const badJws = new Set<string>();
  const signedListed: Array<{ at: string; jws: string; one: Signed }> = [];
  for (const { at, jws } of listed) {
    try {
      signedListed.push({ at, jws, one: await signed(jws) });
    } catch (error) {
      badJws.add(jws);
      badCheckpoints.push(`checkpoint of ${at}: ${(error as Error).message}`);
    }
  }
  const signedArchived: Array<ArchivedCheckpoint & { one: Signed }> = [];
  for (const { at, jws, heads } of options.archive ?? []) {
    if (!listedJws.has(jws) && (complete || at >= oldestListed)) {
      archiveFaults.push({
        chain: '-',
        seq: 0,
        problem: `the archived checkpoint of ${at} is no longer listed (removed or replaced)`,
      });
    }
    try {
      signedArchived.push({ at, jws, ...(heads ? { heads } : {}), one: await signed(jws) });
    } catch (error) {
      badCheckpoints.push(`archived checkpoint of ${at}: ${(error as Error).message}`);
    }
  }
  const archivedJws = new Set((options.archive ?? []).map((one) => one.jws));
  const refused = signingRules({
    signed: [...signedListed, ...signedArchived].map(({ one }) => one),
    archived: signedArchived.map(({ one }) => one).filter((one) => keys.archived(one.kid) === 'audit'),
    auditKeyExists: keys.auditKeyExists(),
    ...(options.platformCheckpointsUntil ? { pinned: options.platformCheckpointsUntil } : {}),
    isNew: (kid) => keys.archived(kid) === undefined,
    // Kept by an earlier run, with its key kept as a platform key: that run accepted it (a refused
    // checkpoint is archived neither, nor is its key).
    acceptedBefore: (jws, kid) => archivedJws.has(jws) && keys.archived(kid) === 'platform',
  });

  for (const { at, jws, one } of signedListed) {
    try {
      const refusal = refused({ ...one, jws });
      if (refusal) throw new Error(refusal);
      keys.used(one.kid);
      if (!one.days.some((day) => asked.has(day))) continue;
      checkpoints.push({
        iat: one.iat,
        kid: one.kid,
        days: one.days,
        chains: await headsOfSigned(jws, one.payload),
      });
    } catch (error) {
      badJws.add(jws);
      badCheckpoints.push(`checkpoint of ${at}: ${(error as Error).message}`);
    }
  }
  // An archived checkpoint's heads matter for the days asked, and for the days of the listed checkpoints
  // read (no head of theirs may be lower than an archived one): a chain is of its day, so no other's can.
  const relevant = new Set([...asked, ...checkpoints.flatMap((checkpoint) => checkpoint.days)]);
  for (const { at, jws, heads, one } of signedArchived) {
    try {
      const refusal = refused({ ...one, jws });
      if (refusal) throw new Error(refusal);
      keys.used(one.kid);
      if (!one.days.some((day) => relevant.has(day))) continue;
      archived.push({
        iat: one.iat,
        kid: one.kid,
        days: one.days,
        chains: await headsOfSigned(jws, one.payload, heads),
      });
    } catch (error) {
      badCheckpoints.push(`archived checkpoint of ${at}: ${(error as Error).message}`);
    }
  }

  const entries: Record<string, unknown>[] = [];
  const positions: Array<string | null> = [];
  /** The entries the service found off their licence's list (`listed: false`), each a fault. */
  const unlisted: ChainFault[] = [];
  /** Those entries themselves: their lists are not read for them too. */
  const foundUnlisted = new Set<Record<string, unknown>>();
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ from: options.from, to: options.to, ...(cursor ? { cursor } : {}) });
    const page = (await call(`/supervision/audit?${query}`, { headers: auth })).body as {
      items: Record<string, unknown>[];
      positions?: unknown[];
      listed?: unknown[];
      cursor?: string;
    };
    page.items.forEach((item, i) => {
      if (page.listed?.[i] !== false || options.listFindings === false) return;
      unlisted.push(offListFault(item, 'the service found'));
      foundUnlisted.add(item);
    });
    entries.push(...page.items);
    positions.push(
      ...page.items.map((_, i) => {
        const position = page.positions?.[i];
        return typeof position === 'string' ? position : null;
      }),
    );
    cursor = page.cursor;
  } while (cursor);

  // Every licence entry of the range on its licence's list, each list read page after page.
  const listFaults =
    options.licenceLists === false
      ? []
      : await offListFaults(
          entries.filter((entry) => !foundUnlisted.has(entry)),
          positions.filter((_, i) => !foundUnlisted.has(entries[i]!)),
          async (licence, next) => {
            const query = new URLSearchParams({
              licence,
              limit: String(options.licenceListPageSize ?? 1000),
              ...(next ? { cursor: next } : {}),
            });
            return (await call(`/supervision/audit?${query}`, { headers: auth })).body as LicenceListPage;
          },
        );

  // Heads never go backwards: a listed checkpoint signing a chain lower than an archived one signed
  // before it (an earlier signed `iat`) did. Only an earlier one: a chain still written grows between
  // checkpoints, so a checkpoint older than an archived one rightly signs it lower (both listed, both kept).
  // Two signed in the same second are not ordered by their `iat`, so neither is compared with the other.
  for (const listed of checkpoints) {
    for (const head of listed.chains) {
      let before: ChainHead | undefined;
      for (const older of archived) {
        if (older.iat >= listed.iat) continue;
        const theirs = older.chains.find((one) => one.chain === head.chain);
        if (theirs && theirs.seq > (before?.seq ?? 0)) before = theirs;
      }
      if (before && head.seq < before.seq) {
        archiveFaults.push({
          chain: head.chain,
          seq: head.seq + 1,
          problem: `a checkpoint signs this chain up to seq ${head.seq}, an archived one signed before it up to seq ${before.seq}`,
        });
      }
    }
  }
  const heads = [...checkpoints, ...archived.filter((one) => one.days.some((day) => asked.has(day)))].flatMap(
    (checkpoint) => checkpoint.chains,
  );
  const check = checkTrail(
    entries,
    heads,
    { from: options.from, to: options.to },
    {
      ...(options.chainsSince ? { chainsSince: options.chainsSince } : {}),
      closing: [...checkpoints, ...archived],
    },
  );
  if (!options.allowUnsigned) {
    check.faults.push(
      ...unsignedDays(entries, checkpoints, { now: options.now ?? Date.now(), days: [...asked] }),
    );
  }
  // A withdrawal saved in several writes has each part on the trail (its entries say n of m).
  check.faults.push(
    ...withdrawalPartFaults(entries, { from: options.from, to: options.to, now: options.now ?? Date.now() }),
  );
  check.faults.push(...unlisted, ...listFaults);
  check.faults.push(...refusedCheckpoint);
  check.faults.push(...archiveFaults, ...keyFaults);
  // Each chain's entries held to the actions of the function whose shard it is in (R31 M1).
  check.faults.push(
    ...misattributedEntries(entries, options.attributionSince ? { since: options.attributionSince } : {}),
  );
  // Heads kept before and not read this time stay as they were (checked when next read).
  const kept = new Map<string, ArchivedCheckpoint>();
  for (const one of [...(options.archive ?? []), ...(listed as ArchivedCheckpoint[])]) {
    if (badJws.has(one.jws) && !archivedJws.has(one.jws)) continue;
    const heads = headsRead.get(one.jws) ?? kept.get(one.jws)?.heads ?? one.heads;
    kept.set(one.jws, { at: one.at, jws: one.jws, ...(heads ? { heads } : {}) });
  }
  const ok = check.faults.length === 0 && badCheckpoints.length === 0;
  return {
    ok,
    entries: entries.length,
    unchained: check.unchained,
    chains: check.chains,
    checkpoints,
    faults: check.faults,
    badCheckpoints,
    archive: [...kept.values()].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0)),
    // Only a run that verified adds keys (security review 22b L1): a failing one would date a new audit
    // kid as already seen, and the rule against backdating under a new kid would hold one run only.
    archiveKeys: ok ? keys.archive() : [...(options.archiveKeys ?? [])],
    items: entries,
    positions,
  };
}

/** The members of a public EC key that make it that key (not its `kid`, `alg` or `use`). */
const sameKey = (a: JWK, b: JWK) =>
  a.kty === b.kty && a.crv === b.crv && a.x === b.x && a.y === b.y && a.n === b.n && a.e === b.e;

const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();

/** RFC 3339 with a UTC offset or `Z` (an offset-less time would be read as the verifier's local time). */
const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * What makes a checkpoint whose signature verified untrusted all the same (a refusal, naming its kid), or
 * `undefined`:
 * - it names a day after the UTC day of its `iat` (no chain of a later day exists yet when it is signed);
 * - it is signed with a platform key (JWKS) while an audit key exists (listed or archived), unless an
 *   earlier run accepted and archived it with its key, or its `iat` is before the cut-over: `pinned`
 *   (`--platform-checkpoints-until`, the supervisor's own record of when the audit key took over), made
 *   earlier still by any checkpoint signed with an audit key that the run sees. Nothing the service
 *   answers may set the cut-over (security review 22b H1): checkpoints can be deleted from the listing, and
 *   when this verifier first saw a key is just when it first ran. Three internet-facing functions hold
 *   the platform key;
 * - its audit kid is new to the archive (first listed in this run) and its `iat` is older than an
 *   archived checkpoint of another audit kid (security review L3): a new generation signs after the ones
 *   before it, never before, so this is a checkpoint backdated under a new key.
 */
function signingRules(run: {
  signed: ReadonlyArray<{ iat: number; set: 'audit' | 'platform' }>;
  archived: ReadonlyArray<{ iat: number; kid: string }>;
  /** The audit key set lists a key (or the archive has one): the audit key exists. */
  auditKeyExists: boolean;
  pinned?: string;
  isNew: (kid: string) => boolean;
  acceptedBefore: (jws: string, kid: string) => boolean;
}) {
  const pinned = run.pinned === undefined ? undefined : Date.parse(run.pinned);
  if (pinned !== undefined && (!rfc3339.test(run.pinned!) || Number.isNaN(pinned))) {
    throw new Error(
      `platformCheckpointsUntil: an RFC 3339 time with Z or a UTC offset, e.g. 2026-12-05T00:00:00Z (got ${run.pinned})`,
    );
  }
  const earliestAudit = run.signed
    .filter((one) => one.set === 'audit')
    .reduce<number | undefined>(
      (min, one) => (min === undefined || one.iat * 1000 < min ? one.iat * 1000 : min),
      undefined,
    );
  const cutOver =
    pinned === undefined
      ? undefined
      : earliestAudit !== undefined && earliestAudit < pinned
        ? {
            ms: earliestAudit,
            why: 'the earliest checkpoint signed with an audit key, before the pinned time',
          }
        : { ms: pinned, why: 'pinned by --platform-checkpoints-until' };
  return (one: {
    iat: number;
    kid: string;
    jws: string;
    set: 'audit' | 'platform';
    days: readonly string[];
  }) => {
    const signedOn = isoOf(one.iat).slice(0, 10);
    const later = one.days.find((day) => day > signedOn);
    if (later) return `kid ${one.kid} signs day ${later}, after the day it was signed (${isoOf(one.iat)})`;
    if (one.set === 'platform' && run.auditKeyExists && !run.acceptedBefore(one.jws, one.kid)) {
      if (!cutOver) {
        return `signed with platform key kid ${one.kid} at ${isoOf(one.iat)}, while the audit key exists: a platform signature is accepted only on a checkpoint signed before --platform-checkpoints-until (the instant the audit key took over, from the operator's deploy record, RFC 3339 with Z or an offset), or on one a run so pinned accepted and archived`;
      }
      if (one.iat * 1000 >= cutOver.ms) {
        return `signed with platform key kid ${one.kid} at ${isoOf(one.iat)}, not before the audit key took over (${new Date(cutOver.ms).toISOString()}, ${cutOver.why}): only checkpoints older than that may carry a platform signature`;
      }
    }
    if (one.set === 'audit' && run.isNew(one.kid)) {
      const newer = run.archived.find((other) => other.kid !== one.kid && other.iat > one.iat);
      if (newer) {
        return `audit kid ${one.kid}, first listed in this run, signs a checkpoint of ${isoOf(one.iat)}, older than an archived checkpoint of audit kid ${newer.kid} (${isoOf(newer.iat)}): backdated under a new key`;
      }
    }
    return undefined;
  };
}

/**
 * The keys checkpoints verify with, and the faults of the sets the service publishes against the archive
 * (fail closed): an audit key whose `kid` is not its RFC 7638 thumbprint; an archived kid that either set
 * now answers with another key; an archived audit kid the audit set no longer lists (it never drops one).
 * A platform kid gone from the JWKS is no fault: the platform key rotates, and the archive keeps it.
 */
async function checkedKeys(
  auditSet: readonly JWK[],
  platformSet: readonly JWK[],
  archived: readonly ArchivedKey[],
  faults: ChainFault[],
) {
  const fault = (problem: string) => faults.push({ chain: '-', seq: 0, problem });
  /** Every key the audit set lists, by kid; and those whose kid is their thumbprint, the ones trusted. */
  const listed = new Map<string, JWK>();
  const audit = new Map<string, JWK>();
  for (const jwk of auditSet) {
    if (typeof jwk.kid !== 'string' || listed.has(jwk.kid)) continue;
    listed.set(jwk.kid, jwk);
    if ((await calculateJwkThumbprint(jwk, 'sha256').catch(() => undefined)) !== jwk.kid) {
      fault(`the audit key set lists kid ${jwk.kid} with a key whose thumbprint is not that kid`);
      continue;
    }
    audit.set(jwk.kid, jwk);
  }
  // A kid is of one set for good (security review 22b L3): a platform key under a kid the audit set lists,
  // or the archive keeps as an audit key, is refused, so that an audit generation left out of a partial
  // key-set answer cannot come back as a platform key (accepted before any cut-over, archived as one).
  const auditKids = new Set([
    ...listed.keys(),
    ...archived.filter((key) => key.set === 'audit').map((key) => key.kid),
  ]);
  const platform = new Map<string, JWK>();
  for (const jwk of platformSet) {
    if (typeof jwk.kid !== 'string' || jwk.kty !== 'EC' || platform.has(jwk.kid)) continue;
    if (auditKids.has(jwk.kid)) {
      fault(`the platform JWKS lists kid ${jwk.kid}, an audit key's kid: a kid is of one set only`);
      continue;
    }
    platform.set(jwk.kid, jwk);
  }
  const kept = new Map<string, ArchivedKey>();
  for (const key of archived) {
    if (kept.has(key.kid)) continue;
    if (key.set === 'platform' && auditKids.has(key.kid)) {
      fault(`the archive keeps kid ${key.kid} as a platform key, yet it is an audit key's kid: not used`);
      continue;
    }
    kept.set(key.kid, key);
    const now = (key.set === 'audit' ? listed : platform).get(key.kid);
    if (now && !sameKey(now, key.jwk)) {
      fault(`the ${key.set} key set answers another key for kid ${key.kid} than the one archived`);
    } else if (!now && key.set === 'audit') {
      fault(`the audit key set no longer lists kid ${key.kid}, which signed archived checkpoints`);
    }
  }
  const seen = new Map<string, ArchivedKey>();
  const now = new Date().toISOString();
  const lookUp = (kid: string): Pick<ArchivedKey, 'set' | 'jwk'> | undefined =>
    kept.get(kid) ??
    (audit.has(kid)
      ? { set: 'audit', jwk: audit.get(kid)! }
      : platform.has(kid)
        ? { set: 'platform', jwk: platform.get(kid)! }
        : undefined);
  return {
    /** The key `kid` names: archived, else the audit set's, else the platform JWKS's. */
    async keyFor(kid: string | undefined) {
      if (kid === undefined) throw new Error('its header names no kid');
      const found = lookUp(kid);
      if (!found) throw new Error(`no key, archived or published, has kid ${kid}`);
      return importJWK({ ...found.jwk, alg: 'ES256' }, 'ES256');
    },
    /** Which set the key of `kid` is from (archived, else published), as {@link keyFor} finds it. */
    setOf: (kid: string): 'audit' | 'platform' => lookUp(kid)?.set ?? 'platform',
    /** The set of `kid`'s archived key, `undefined` if it was not in the archive this run began with. */
    archived: (kid: string) => kept.get(kid)?.set,
    /** Whether the audit set lists a trusted key, or the archive keeps one. */
    auditKeyExists: () => audit.size > 0 || [...kept.values()].some((key) => key.set === 'audit'),
    /** Records the key of `kid` (once a checkpoint was accepted with it) to archive, if not kept already. */
    used(kid: string) {
      const found = lookUp(kid);
      if (found && !kept.has(kid) && !seen.has(kid)) {
        seen.set(kid, { kid, set: found.set, jwk: found.jwk, firstSeen: now });
      }
    },
    /**
     * The archived keys, every audit key listed now (the set only grows: archiving each as soon as it is
     * listed dates when it appeared, which security review L3's check needs) and the platform keys first
     * used now.
     */
    archive: (): ArchivedKey[] => [
      ...kept.values(),
      ...[...audit.entries()]
        .filter(([kid]) => !kept.has(kid) && !seen.has(kid))
        .map(([kid, jwk]): ArchivedKey => ({ kid, set: 'audit', jwk, firstSeen: now })),
      ...seen.values(),
    ],
  };
}

/**
 * A fault for each day that is not signed as it must be (M1 of R24): recomputing its chains proves only
 * that they are consistent, not that they were not rewritten, cut or removed whole.
 *
 * - A **past** day (its {@link closingTime}, the next 00:00 UTC plus `closingMarginMs`, at or before
 *   `now`) that has chained entries, or that a verified checkpoint names (signing was running then: its
 *   chains may all have been removed since), needs a **closing** checkpoint (signed at or after that
 *   time, `closesDay`): one signed during the day (the 00:15 run signs the day it runs on) pins only the
 *   chains started before it, and without the next day's run the rest can be cut whole.
 * - Any other day (today) with chained entries needs a verified checkpoint that names it.
 *
 * `days`, when given, are the days asked for (a checkpoint names others too).
 *
 * @example
 * ```ts
 * faults.push(...unsignedDays(entries, checkpoints, { now: Date.now(), days: ['2026-12-05'] }));
 * ```
 */
export function unsignedDays(
  entries: readonly Record<string, unknown>[],
  checkpoints: readonly VerifiedCheckpoint[],
  options: { now: number; days?: readonly string[] },
): ChainFault[] {
  const asked = options.days === undefined ? undefined : new Set(options.days);
  const covered = new Set(checkpoints.flatMap((checkpoint) => checkpoint.days));
  const closed = new Set(
    checkpoints.flatMap((checkpoint) => checkpoint.days.filter((day) => closesDay(checkpoint.iat, day))),
  );
  const withEntries = new Set(
    entries.flatMap((entry) => (typeof entry.chain === 'string' ? [entry.chain.slice(0, 10)] : [])),
  );
  const days = new Set([...withEntries, ...[...covered].filter((day) => !asked || asked.has(day))]);
  return [...days].sort().flatMap((day): ChainFault[] => {
    if (closingTime(day) <= options.now) {
      if (closed.has(day)) return [];
      return [
        {
          chain: '-',
          seq: 0,
          problem: `no closing checkpoint for ${day}: no verified checkpoint signed after the day ended (${new Date(closingTime(day)).toISOString()} or later) names it, so its chains started after its last checkpoint could be cut or removed whole unseen (sign one: --checkpoint --from ${day} --to ${day}; docs/operating.md, "The audit trail's closing checkpoints")`,
        },
      ];
    }
    if (covered.has(day) || !withEntries.has(day)) return [];
    return [
      {
        chain: '-',
        seq: 0,
        problem: `no verified checkpoint covers ${day}: its entries are unsigned (sign one with --checkpoint, or pass --allow-unsigned)`,
      },
    ];
  });
}

/**
 * The fault of a licence entry not on its licence's list: `how` says who found it (the service, from the
 * item's own index keys; or the list read page after page).
 *
 * @example
 * ```ts
 * offListFault(entry, 'the service found'); // { chain, seq, problem: 'an entry of licence … is on the chain but …' }
 * ```
 */
export function offListFault(entry: Record<string, unknown>, how: string): ChainFault {
  return {
    chain: typeof entry.chain === 'string' ? entry.chain : '-',
    seq: typeof entry.seq === 'number' ? entry.seq : 0,
    problem: `an entry of licence ${String(entry.licenceId)} (${String(entry.action)}, ${String(entry.at)}) is on the chain but missing from the licence's list (${how} it is not there: its index was changed, and the licence's trail no longer shows it)`,
  };
}

/** A page of a licence's list as `GET /supervision/audit?licence=` answers it (what this reads of it). */
export interface LicenceListPage {
  items: Record<string, unknown>[];
  positions?: unknown[];
  cursor?: string;
}

/** How long to wait before reading again a list that lacks an entry (an index is updated a moment later). */
const listLagMs = 2_000;

/** How many licences' lists are read at once. */
const listsAtOnce = 8;

/**
 * A fault for each licence entry among `entries` (one about a licence: `licenceId`) that is not on its
 * licence's list, read by `readPage` (a page after `cursor`, as `GET /supervision/audit?licence=` answers
 * it) from the first page, page after page, until the list ends or passes the last place (`positions`,
 * as the day range answered them beside `entries`) of that licence's entries: the list is an index, which
 * no hash covers, so an entry taken off it (hidden from the licence's trail, the console and `GET
 * /admin/audit`) leaves every chain intact. An entry is on the list when its place is (or, with no
 * place answered, its chain and seq). A list that lacks one is read again once, a moment later, since an
 * index is updated just after its table. Named by the entry's chain and seq.
 *
 * @example
 * ```ts
 * faults.push(...(await offListFaults(report.items, report.positions, readLicencePage)));
 * ```
 */
export async function offListFaults(
  entries: readonly Record<string, unknown>[],
  positions: ReadonlyArray<string | null>,
  readPage: (licence: string, cursor?: string) => Promise<LicenceListPage>,
): Promise<ChainFault[]> {
  const byLicence = new Map<string, Array<{ entry: Record<string, unknown>; place: string | null }>>();
  entries.forEach((entry, i) => {
    if (typeof entry.licenceId !== 'string') return;
    const list = byLicence.get(entry.licenceId) ?? [];
    list.push({ entry, place: positions[i] ?? null });
    byLicence.set(entry.licenceId, list);
  });
  const linkOf = (entry: Record<string, unknown>) => `${String(entry.chain)}#${String(entry.seq)}`;
  /** The places and links on `licence`'s list, read up to `last` (to the end when undefined). */
  const listed = async (licence: string, last: string | undefined) => {
    const places = new Set<string>();
    const links = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await readPage(licence, cursor);
      page.items.forEach((item, i) => {
        const place = page.positions?.[i];
        if (typeof place === 'string') places.add(place);
        links.add(linkOf(item));
      });
      cursor = page.cursor;
      const end = page.positions?.at(-1);
      if (last !== undefined && typeof end === 'string' && end >= last) break;
    } while (cursor);
    return { places, links };
  };
  /** The entries of `licence` missing from its list, each a fault. */
  const check = async (
    licence: string,
    wanted: Array<{ entry: Record<string, unknown>; place: string | null }>,
  ): Promise<ChainFault[]> => {
    const places = wanted.map(({ place }) => place);
    const last = places.includes(null) ? undefined : (places as string[]).sort().at(-1);
    const missingFrom = (list: Awaited<ReturnType<typeof listed>>) =>
      wanted.filter(({ entry, place }) =>
        place !== null ? !list.places.has(place) : !list.links.has(linkOf(entry)),
      );
    let missing = missingFrom(await listed(licence, last));
    if (missing.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, listLagMs));
      missing = missingFrom(await listed(licence, last));
    }
    return missing.map(({ entry }) => offListFault(entry, 'its list, read page after page, shows'));
  };
  // A few lists at a time (a busy day has entries of many licences), faults in the order of the entries.
  const licences = [...byLicence];
  const faults: ChainFault[] = [];
  for (let start = 0; start < licences.length; start += listsAtOnce) {
    const batch = licences.slice(start, start + listsAtOnce);
    for (const found of await Promise.all(batch.map(([licence, wanted]) => check(licence, wanted)))) {
      faults.push(...found);
    }
  }
  return faults;
}

/**
 * How long after a withdrawal's `at` its entries may still be on their way to the trail: each is written
 * right after the writes, and one left pending (the process gone, a write failed) by the reconciler a
 * minute or two later (`UnfinishedWrites` alarms within 5 minutes). A withdrawal younger than this at
 * the end of the range (or now) is not held to its parts yet.
 */
export const withdrawalSettleMs = 10 * 60_000;

/**
 * A fault for each withdrawal saved in several writes (`authorization.withdrawn` entries carrying
 * `withdrawal`, `part` n and `parts` m) whose entries among `entries` are not exactly parts 1 to m, once:
 * a part missing (removed from the trail, or its saved entry taken out of the pending work before it was
 * written, which no chain can show), a part twice, a part outside 1..m, or parts that disagree on m.
 * Named at the withdrawal's first entry read (its chain and seq).
 *
 * Only a withdrawal all of whose parts must be within the range is judged: its `at` on or after `from`
 * (a part is never on a chain of a day before its `at`'s), and at least {@link withdrawalSettleMs} before
 * both the end of `to` and `now` (a part written late goes on the chain of the day it is written).
 *
 * @example
 * ```ts
 * faults.push(...withdrawalPartFaults(entries, { from: '2026-12-05', to: '2026-12-05', now: Date.now() }));
 * ```
 */
export function withdrawalPartFaults(
  entries: readonly Record<string, unknown>[],
  range: { from: string; to: string; now: number },
): ChainFault[] {
  const groups = new Map<string, Array<Record<string, unknown>>>();
  for (const entry of entries) {
    if (typeof entry.withdrawal !== 'string') continue;
    const group = groups.get(entry.withdrawal) ?? [];
    group.push(entry);
    groups.set(entry.withdrawal, group);
  }
  const settledBy = Math.min(range.now, Date.parse(`${range.to}T00:00:00Z`) + 86_400_000);
  const faults: ChainFault[] = [];
  for (const [withdrawal, group] of groups) {
    const at = group.map((entry) => String(entry.at)).sort()[0]!;
    if (at.slice(0, 10) < range.from) continue;
    if (!(Date.parse(at) + withdrawalSettleMs <= settledBy)) continue;
    const first = group[0]!;
    const named = (problem: string) =>
      faults.push({
        chain: typeof first.chain === 'string' ? first.chain : '-',
        seq: typeof first.seq === 'number' ? first.seq : 0,
        problem: `withdrawal ${withdrawal}: ${problem}`,
      });
    const counts = [...new Set(group.map((entry) => entry.parts))];
    const parts = counts[0];
    if (counts.length !== 1 || typeof parts !== 'number' || !Number.isInteger(parts) || parts < 1) {
      named(`its entries do not agree on how many parts it has (${counts.map(String).join(', ')})`);
      continue;
    }
    const seen = group.map((entry) => entry.part);
    const odd = seen.find(
      (part) => typeof part !== 'number' || !Number.isInteger(part) || part < 1 || part > parts,
    );
    if (odd !== undefined) {
      named(`an entry says it is part ${String(odd)} of ${parts}`);
      continue;
    }
    const twice = seen.find((part, i) => seen.indexOf(part) !== i);
    if (twice !== undefined) {
      named(`part ${String(twice)} of ${parts} is on the trail twice`);
      continue;
    }
    const missing = Array.from({ length: parts }, (_, i) => i + 1).filter((part) => !seen.includes(part));
    if (missing.length === 0) continue;
    const present = [...(seen as number[])].sort((a, b) => a - b);
    named(
      `part ${missing.join(', ')} of ${parts} ${missing.length > 1 ? 'are' : 'is'} not on the trail (${present.length > 1 ? 'parts' : 'part'} ${present.join(', ')} ${present.length > 1 ? 'are' : 'is'}): removed, or taken out of the pending work before it was written (a withdrawal stopped between its writes, or whose part's grants another withdrawal took first, lacks one too: docs/supervision.md, "A withdrawal in several writes")`,
    );
  }
  return faults;
}

/** A `supervision` token for the client of `options`, by the client-credentials grant. */
async function clientCredentialsToken(
  get: typeof fetch,
  tokenEndpoint: string,
  options: Pick<AuditVerifyOptions, 'clientId' | 'clientSecret'>,
): Promise<string> {
  if (options.clientId === undefined || options.clientSecret === undefined)
    throw new Error('a client id and secret, or an access token, are needed');
  const basic = Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64');
  const tokenResponse = await get(tokenEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'supervision' }),
  });
  const token = ((await tokenResponse.json()) as { access_token?: string }).access_token;
  if (!tokenResponse.ok || !token)
    throw new Error(`the token endpoint refused the client (${tokenResponse.status})`);
  return token;
}

import { createHash, randomBytes } from 'node:crypto';
import { canonicalJson } from '../canonical-json.js';
import type { AuditEntry } from '../audit/audit-trail.js';

/**
 * The audit trail's hash chains (电子监察: a tamper-evident trail). Every writer of the trail (one per
 * Lambda container, one per function locally) appends to a chain of its own, `<YYYY-MM-DD>.<writer>`,
 * numbering its entries 1, 2, … (`seq`) and linking each to the one before (`prevHash`). This module is
 * the chain's arithmetic, with no I/O: the adapter uses it to write, `npm run audit:verify` and the tests
 * to check. docs/supervision.md spells the same rules out for a third party.
 */

/** The fields an entry carries on a chain. Entries written before chains existed carry none of them. */
export interface ChainLink {
  /** `<YYYY-MM-DD>.<writer id>`: the UTC day the chain was started on, and its writer. */
  chain: string;
  /** 1 for a chain's first entry, then each entry the one before plus one. */
  seq: number;
  /** Lowercase hex SHA-256: the previous entry's `hash`, or {@link genesisHash} for `seq` 1. */
  prevHash: string;
  /** Lowercase hex SHA-256 of {@link hashedText} of the entry (its link and its content's digest). */
  hash: string;
}

export type ChainedEntry = Omit<AuditEntry, 'holderKey' | 'holderSalt'> & ChainLink;

/** A chain's head as a checkpoint signs it. */
export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
}

/**
 * The head a checkpoint signs for a chain whose last entry holds no valid `seq` and `hash` (rewritten):
 * `seq` 0, which no entry has, and a hash of zeros. Signed as a fault, so that the other chains of the day
 * are signed (one writer's role could otherwise keep every chain unsigned, review R57 F2), no later
 * checkpoint can drop the chain silently (a closed day's heads must stay the same), and the daily check
 * reports it.
 */
export const corruptHead = (chain: string): ChainHead => ({ chain, seq: 0, hash: '0'.repeat(64) });

/** Whether a signed head is {@link corruptHead}'s: the chain was found corrupt when it was signed. */
export const isCorruptHead = (head: ChainHead): boolean => head.seq === 0;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A chain id: `YYYY-MM-DD.` then the writer id (lowercase base32). */
export const chainIdPattern = /^(\d{4}-\d{2}-\d{2})\.([a-z2-7]{12})$/;

/**
 * The `prevHash` of a chain's first entry: the SHA-256 (hex) of the chain id's UTF-8 bytes.
 *
 * @example
 * ```ts
 * genesisHash('2026-12-05.abcdefghijkl'); // sha256('2026-12-05.abcdefghijkl') in hex
 * ```
 */
export function genesisHash(chain: string): string {
  return sha256(chain);
}

/**
 * The fields that place an entry on its chain, and those derived from them, and what is never answered
 * (the holder's lookup key and its salt; `holderAttribution`, the service's finding as it answers): not
 * the entry's content. `holderCommitment` IS content: the hash covers it.
 */
const linkFields = new Set([
  'chain',
  'seq',
  'prevHash',
  'hash',
  'contentDigest',
  'redacted',
  'holderKey',
  'holderSalt',
  'holderAttribution',
]);

/**
 * The entry's content as hashed: everything but `chain`, `seq`, `prevHash`, `hash` (and
 * `contentDigest`/`redacted`/`holderAttribution` of an answer) and the holder's lookup key and its salt
 * (never answered; `holderCommitment`, which binds them, is content), as
 * canonical JSON: object keys sorted by UTF-16 code units, no white space, strings escaped as
 * `JSON.stringify` does, numbers as decimal integers. Its UTF-8 bytes are hashed into `contentDigest`.
 *
 * @example
 * ```ts
 * contentText({ at, actor, action, chain, seq: 1, prevHash, hash }); // '{"action":…,"actor":…,"at":…}'
 * ```
 */
export function contentText(entry: object): string {
  const content = Object.fromEntries(
    Object.entries(entry as Record<string, unknown>).filter(([name]) => !linkFields.has(name)),
  );
  return canonicalJson(content);
}

/** `contentDigest`: SHA-256 (hex) of {@link contentText}. */
export function contentDigest(entry: object): string {
  return sha256(contentText(entry));
}

/**
 * Exactly what an entry's `hash` covers: `{ chain, seq, prevHash, contentDigest }` as canonical JSON, so
 * that an entry answered redacted (its content replaced by `contentDigest`) still links. A redacted
 * entry's own `contentDigest` is used; any other's is recomputed from its content.
 *
 * @example
 * ```ts
 * hashedText({ at, actor, action, chain, seq: 1, prevHash }); // '{"chain":…,"contentDigest":…,"prevHash":…,"seq":1}'
 * ```
 */
export function hashedText(entry: object): string {
  const fields = entry as Record<string, unknown>;
  const digest = fields.redacted === true ? fields.contentDigest : contentDigest(entry);
  return canonicalJson({
    chain: fields.chain,
    seq: fields.seq,
    prevHash: fields.prevHash,
    contentDigest: digest,
  });
}

/** The `hash` of an entry: SHA-256 (hex) of {@link hashedText}. */
export function entryHash(entry: object): string {
  return sha256(hashedText(entry));
}

/** `holderCommitment` of an entry that belongs to nobody's usage record (it carries no `holderKey`). */
export const noHolder = 'none';

/**
 * The commitment to an entry's holder: SHA-256 (hex) of `elicence/audit-holder`, NUL, the entry's own
 * salt, NUL, the holder's lookup key (UTF-8). The salt is new for every entry, so two entries of one
 * holder carry unrelated commitments (nothing to link them by), and without the salt and the key (stored,
 * never answered) a commitment says nothing of the holder.
 *
 * @example
 * ```ts
 * holderCommitmentOf(entry.holderKey, entry.holderSalt) === entry.holderCommitment; // attribution genuine
 * ```
 */
export function holderCommitmentOf(holderKey: string, salt: string): string {
  return sha256(`elicence/audit-holder\u0000${salt}\u0000${holderKey}`);
}

/**
 * `entry` with its holder committed: an entry with a `holderKey` gets a fresh `holderSalt` (16 random
 * bytes, base64url) and its `holderCommitment`; one without gets `holderCommitment: 'none'`, so that
 * filing it under somebody later shows too. An entry already committed is answered as it is.
 *
 * @example
 * ```ts
 * commitHolder({ ...entry, holderKey }); // { ...entry, holderKey, holderSalt: 'q3…', holderCommitment: '9f…' }
 * ```
 */
export function commitHolder<E extends AuditEntry>(entry: E): E {
  if (entry.holderCommitment !== undefined) return entry;
  if (entry.holderKey === undefined) return { ...entry, holderCommitment: noHolder };
  const holderSalt = randomBytes(16).toString('base64url');
  return { ...entry, holderSalt, holderCommitment: holderCommitmentOf(entry.holderKey, holderSalt) };
}

/** When every entry carries a holder commitment: the UTC day (`YYYY-MM-DD`), if the operator set it. */
export interface CommitmentRule {
  commitmentsSince?: string | undefined;
}

/**
 * Whether an entry's holder is the one it was written with: `committed` (its `holderKey` and `holderSalt`
 * give its `holderCommitment`; or it commits to no holder and carries none), `mismatch` (re-attributed,
 * hidden from its holder, or filed under somebody: never shown as genuine), or `uncommitted` (written
 * before commitments: no `holderCommitment` in its content, checked by the chain alone). With
 * `commitmentsSince`, an entry without a commitment dated on or after that day (its `at`, or its chain's
 * day, whichever is later) is a `mismatch`: stripping the commitment is how an edited entry would pass as
 * old.
 *
 * The salt is stored beside the commitment, so whoever can write the table can recompute a commitment for
 * another holder: the commitment alone proves nothing. What makes it bind is the entry's `hash`, which
 * covers it, and the next entry's `prevHash` and the checkpoints, which cover the hash. So an entry on a
 * chain (any chain field present) must also carry all of them and its `hash` must be the hash of its
 * content as it is read (recomputed from the content, never from a stored `contentDigest`), else it is a
 * `mismatch`; and an entry with a commitment but no chain fields is one too (commitments came after
 * chains). A forger who also rewrites `hash` passes this check: the broken link is then found by
 * `npm run audit:verify` (the chain and the signed checkpoints), not here (docs/supervision.md).
 *
 * @example
 * ```ts
 * if (holderAttribution(entry) === 'mismatch') logger.error('audit entry: holder does not match its commitment');
 * ```
 */
export function holderAttribution(
  entry: {
    holderKey?: unknown;
    holderSalt?: unknown;
    holderCommitment?: unknown;
    at?: unknown;
    chain?: unknown;
    seq?: unknown;
    prevHash?: unknown;
    hash?: unknown;
  },
  rule: CommitmentRule = {},
): 'committed' | 'mismatch' | 'uncommitted' {
  const { holderKey, holderSalt, holderCommitment } = entry;
  if (!ownHashHolds(entry)) return 'mismatch';
  if (holderCommitment === undefined) {
    const since = rule.commitmentsSince;
    if (since === undefined) return 'uncommitted';
    const atDay = typeof entry.at === 'string' ? entry.at.slice(0, 10) : '';
    const chainDay = (typeof entry.chain === 'string' && chainIdPattern.exec(entry.chain)?.[1]) || '';
    return (atDay > chainDay ? atDay : chainDay) < since ? 'uncommitted' : 'mismatch';
  }
  if (holderCommitment === noHolder) {
    return holderKey === undefined && holderSalt === undefined ? 'committed' : 'mismatch';
  }
  return typeof holderKey === 'string' &&
    typeof holderSalt === 'string' &&
    holderCommitmentOf(holderKey, holderSalt) === holderCommitment
    ? 'committed'
    : 'mismatch';
}

/**
 * Whether an entry's own link fields are consistent with its content: an entry on no chain (none of
 * `chain`, `seq`, `prevHash`, `hash`) only if it carries no holder commitment (commitments came after
 * chains); one on a chain only with all four and a `hash` that is the hash of its content. A stored
 * `redacted`/`contentDigest` is ignored: the content is hashed as it is, so a digest copied from the
 * original cannot vouch for edited content.
 */
function ownHashHolds(entry: Record<string, unknown>): boolean {
  const { chain, seq, prevHash, hash } = entry;
  if (chain === undefined && seq === undefined && prevHash === undefined && hash === undefined) {
    return entry.holderCommitment === undefined;
  }
  if (typeof chain !== 'string' || typeof seq !== 'number' || typeof prevHash !== 'string') return false;
  return typeof hash === 'string' && entryHash({ ...entry, redacted: false }) === hash;
}

/**
 * Whether supervisors see an entry whole: entries about licences, one (`licence.`) or many (`licences.`:
 * an issuer's exports and holder searches, which name no one), and a change of an enterprise's legal
 * representative recorded from the registry (`entity.representative_changed`: public registry facts, each
 * person masked, as a licence's holder is); the rest (accounts, sign-ins) redacted.
 */
export const answeredWhole = (entry: { action: string }) => {
  // An item written with no action at all (a writer's junk, review R57 F2) is answered redacted.
  const action: unknown = entry.action;
  return (
    typeof action === 'string' &&
    (action.startsWith('licence.') ||
      action.startsWith('licences.') ||
      action === 'entity.representative_changed')
  );
};

/** An entry as answered redacted: when, what kind, and its place on its chain, its content only digested. */
export interface RedactedEntry {
  at: string;
  action: string;
  chain?: string;
  seq?: number;
  prevHash?: string;
  hash?: string;
  contentDigest?: string;
  /** Present only when the service found the entry's holder does not match its commitment. */
  holderAttribution?: 'mismatch';
  /**
   * A withdrawal saved in several writes: its id and which entry of how many this is, as the entry holds
   * them (they name no one; the `contentDigest` covers them), so that a supervisor sees a missing part.
   */
  withdrawal?: string;
  part?: number;
  parts?: number;
  redacted: true;
}

/**
 * An entry as a supervisor is answered it: a licence entry whole (without the holder's lookup key), any
 * other as a {@link RedactedEntry}, which still verifies on its chain.
 *
 * @example
 * ```ts
 * forSupervisor({ at, actor: 'acc_1', action: 'account.registered', chain, seq, prevHash, hash });
 * // { at, action: 'account.registered', chain, seq, prevHash, hash, contentDigest, redacted: true }
 * ```
 */
export function forSupervisor(
  entry: AuditEntry & Partial<ChainLink>,
  rule: CommitmentRule = {},
): Omit<AuditEntry, 'holderKey' | 'holderSalt'> | RedactedEntry {
  // The service's own finding (it alone reads the holder and the salt), never a value the table holds.
  const finding =
    holderAttribution(entry, rule) === 'mismatch' ? { holderAttribution: 'mismatch' as const } : {};
  if (answeredWhole(entry)) {
    const {
      holderKey: _holderKey,
      holderSalt: _holderSalt,
      holderAttribution: _stored,
      // Never stored by the service: a stored `redacted: true` beside a copied `contentDigest` would make
      // a verifier hash the digest instead of the (edited) content the answer carries.
      redacted: _redacted,
      contentDigest: _digest,
      ...whole
    } = entry as AuditEntry & { holderAttribution?: unknown; redacted?: unknown; contentDigest?: unknown };
    return { ...whole, ...finding };
  }
  return {
    at: entry.at,
    action: entry.action,
    ...finding,
    ...(entry.withdrawal !== undefined ? { withdrawal: entry.withdrawal } : {}),
    ...(entry.part !== undefined ? { part: entry.part } : {}),
    ...(entry.parts !== undefined ? { parts: entry.parts } : {}),
    ...(entry.chain !== undefined
      ? {
          chain: entry.chain,
          seq: entry.seq!,
          prevHash: entry.prevHash!,
          hash: entry.hash!,
          contentDigest: contentDigest(entry),
        }
      : {}),
    redacted: true,
  };
}

/**
 * Links `entry` onto a chain after `previous` (`undefined`: the chain's first entry), its holder committed
 * first ({@link commitHolder}) so that the hash covers the commitment.
 *
 * @example
 * ```ts
 * const first = link(entry, '2026-12-05.abcdefghijkl');
 * const second = link(next, first.chain, first);
 * ```
 */
export function link<E extends AuditEntry>(
  entry: E,
  chain: string,
  previous?: Pick<ChainLink, 'seq' | 'hash'>,
): E & ChainLink {
  const linked = {
    ...commitHolder(entry),
    chain,
    seq: previous ? previous.seq + 1 : 1,
    prevHash: previous ? previous.hash : genesisHash(chain),
  };
  return { ...linked, hash: entryHash(linked) };
}

/** What is wrong, at the first bad entry found. */
export interface ChainFault {
  chain: string;
  /** The position that does not verify (the missing one, for a gap). */
  seq: number;
  problem: string;
}

export interface TrailCheck {
  /** The chains checked, each with the head its entries reach. */
  chains: ChainHead[];
  /** Entries outside every chain dated before chains began: listed, not provable. */
  unchained: number;
  /** Empty when every chain verifies; the first fault of each bad chain otherwise, the first one first. */
  faults: ChainFault[];
}

/**
 * How long after a UTC day ends a checkpoint must be signed to **close** it (5 minutes): a write begun
 * before midnight may land a moment after (an SDK retry, a batch's unprocessed items written again), so a
 * checkpoint signed in that margin may not yet see the day's final heads. The scheduled checkpoint
 * (00:15 UTC) is well past it. A day is closed by a checkpoint that names it and was signed at or after
 * {@link closingTime}; a day whose closing time has passed is a past day, and needs one.
 */
export const closingMarginMs = 5 * 60_000;

/** When a checkpoint of `day` (`YYYY-MM-DD`) starts closing it: the next 00:00 UTC plus {@link closingMarginMs}. */
export function closingTime(day: string): number {
  return Date.parse(`${day}T00:00:00Z`) + 86_400_000 + closingMarginMs;
}

/** Whether a checkpoint signed at `iat` (epoch seconds) that names `day` closes it. */
export const closesDay = (iat: number, day: string): boolean => iat * 1000 >= closingTime(day);

/**
 * Recomputes every chain in `entries` (any order, several chains mixed): per chain, the entries sorted by
 * `seq` must run 1, 2, … with no gap and no repeat, each `prevHash` must be the previous entry's `hash`
 * (the genesis hash for seq 1), and each `hash` must be the hash of the entry's content. `checkpoint`
 * heads (verified separately) must each be reached: the chain's entry at the head's `seq` must carry the
 * head's `hash`; a chain the checkpoint names with no entry at all is missing. Heads of chains whose day
 * is outside `days` (when given) are skipped, since those entries were not asked for. An entry with no
 * chain fields is only acceptable before chains began: before `chainsSince` (a UTC day) when given, else
 * before the earliest chain day among `entries`; one dated on or after that day is a fault (chain `-`),
 * since removing its chain fields is how an edited entry would hide. A day that a `closing` checkpoint
 * closes ({@link closesDay}) is final: each of its chains must be one the day's closing checkpoints name,
 * and must end at the head the earliest of them signs (an entry past it was appended afterwards: no
 * writer appends to a chain of a day that has ended).
 *
 * @example
 * ```ts
 * const { faults } = checkTrail(items, heads, { from: '2026-12-01', to: '2026-12-05' });
 * if (faults[0]) console.error(`${faults[0].chain} #${faults[0].seq}: ${faults[0].problem}`);
 * ```
 */
export function checkTrail(
  entries: readonly object[],
  checkpoint: readonly ChainHead[] = [],
  days?: { from: string; to: string },
  options: {
    chainsSince?: string;
    /**
     * Verified checkpoints (`iat` in epoch seconds): one signed at or after the end of a UTC day it names,
     * plus {@link closingMarginMs}, closes that day. Every chain of a closed day among `entries` must then
     * be among the heads the day's closing checkpoints sign (security review 22b M1: a chain added to a
     * closed day, self-consistent from its genesis, is otherwise never compared with anything signed),
     * and must end at the head the earliest of them signs (R24 H1: entries appended to a closed day's
     * chain, back-dated, would otherwise pass as the unsigned tail of a signed chain).
     */
    closing?: ReadonlyArray<{ iat: number; days: readonly string[]; chains: readonly ChainHead[] }>;
  } = {},
): TrailCheck {
  const chains = new Map<string, Record<string, unknown>[]>();
  const loose: Record<string, unknown>[] = [];
  for (const entry of entries as readonly Record<string, unknown>[]) {
    if (entry.chain === undefined) {
      loose.push(entry);
      continue;
    }
    const chain = String(entry.chain);
    const list = chains.get(chain) ?? [];
    list.push(entry);
    chains.set(chain, list);
  }
  const faults: ChainFault[] = [];
  const chainDays = [...chains.keys()].map((chain) => chainIdPattern.exec(chain)?.[1] ?? '').filter(Boolean);
  const since = options.chainsSince ?? chainDays.sort()[0];
  let unchained = 0;
  for (const entry of loose) {
    const at = typeof entry.at === 'string' ? entry.at : '';
    if (since !== undefined && !(at.slice(0, 10) < since)) {
      faults.push({
        chain: '-',
        seq: 0,
        problem: `an entry of ${at || 'no date'} (${String(entry.action)}) has no chain fields, yet chains began on ${since}`,
      });
    } else unchained += 1;
  }
  const heads: ChainHead[] = [];
  for (const [chain, list] of chains) {
    const result = checkChain(chain, list);
    if ('problem' in result) faults.push(result);
    else heads.push(result);
  }
  const reached = new Map(heads.map((head) => [head.chain, head]));
  const faulty = new Set(faults.map((fault) => fault.chain));
  // Each closed day's chains, each with the head its earliest closing checkpoint signs (the lowest seq
  // any closing checkpoint signs: a later one signing more cannot bless what was appended in between).
  const closedDays = new Map<string, Map<string, ChainHead>>();
  for (const closing of [...(options.closing ?? [])].sort((a, b) => a.iat - b.iat)) {
    for (const day of closing.days) {
      if (!closesDay(closing.iat, day)) continue;
      const named = closedDays.get(day) ?? new Map<string, ChainHead>();
      for (const head of closing.chains) {
        if (chainIdPattern.exec(head.chain)?.[1] !== day) continue;
        const before = named.get(head.chain);
        if (!before || head.seq < before.seq) named.set(head.chain, head);
      }
      closedDays.set(day, named);
    }
  }
  for (const chain of chains.keys()) {
    const day = chainIdPattern.exec(chain)?.[1];
    const named = day === undefined ? undefined : closedDays.get(day);
    if (!named || faulty.has(chain)) continue;
    if (days && (day! < days.from || day! > days.to)) continue;
    const closingHead = named.get(chain);
    if (!closingHead) {
      faults.push({
        chain,
        seq: 1,
        problem: `chain not in the day's closing checkpoint: a checkpoint signed after ${day} ended names its chains, not this one (added afterwards)`,
      });
      continue;
    }
    // Reported beside any fault at the head itself (a hash the checkpoint does not sign), lowest seq first.
    const last = reached.get(chain)!.seq;
    if (last > closingHead.seq) {
      faults.push({
        chain,
        seq: closingHead.seq + 1,
        problem: `appended after the day's closing checkpoint: the checkpoint that closed ${day} signs this chain up to seq ${closingHead.seq}, the entries go on to seq ${last} (no writer appends to a chain of a day that has ended)`,
      });
    }
  }
  for (const head of checkpoint) {
    const day = chainIdPattern.exec(head.chain)?.[1];
    if (days && day && (day < days.from || day > days.to)) continue;
    if (faulty.has(head.chain)) continue;
    if (isCorruptHead(head)) {
      // Found corrupt when signed (review R57 F2): a fault whatever the chain holds now.
      faults.push({
        chain: head.chain,
        seq: 0,
        problem:
          'the checkpoint found this chain’s last entry without a valid seq and hash (rewritten) and signed it as corrupt',
      });
      continue;
    }
    const mine = reached.get(head.chain);
    if (!mine) {
      faults.push({
        chain: head.chain,
        seq: 1,
        problem: `the checkpoint signs this chain up to seq ${head.seq}, but no entry of it was found`,
      });
      continue;
    }
    if (mine.seq < head.seq) {
      faults.push({
        chain: head.chain,
        seq: mine.seq + 1,
        problem: `missing: the checkpoint signs this chain up to seq ${head.seq}, the entries end at seq ${mine.seq}`,
      });
      continue;
    }
    const atHead = chains.get(head.chain)?.find((entry) => entry.seq === head.seq);
    if (atHead?.hash !== head.hash) {
      faults.push({
        chain: head.chain,
        seq: head.seq,
        problem: `the hash differs from the one the checkpoint signs for this seq (${head.hash})`,
      });
    }
  }
  faults.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : a.seq - b.seq));
  return { chains: heads, unchained, faults };
}

/** One chain's entries recomputed: its head, or its first fault. */
function checkChain(chain: string, entries: Record<string, unknown>[]): ChainHead | ChainFault {
  const sorted = [...entries].sort((a, b) => Number(a.seq) - Number(b.seq));
  let previous: { seq: number; hash: string } | undefined;
  for (const entry of sorted) {
    const seq = entry.seq;
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) {
      return { chain, seq: (previous?.seq ?? 0) + 1, problem: `an entry has no valid seq (${String(seq)})` };
    }
    const expected = (previous?.seq ?? 0) + 1;
    if (seq < expected) return { chain, seq, problem: 'two entries claim this seq (a fork or a copy)' };
    if (seq > expected) {
      return {
        chain,
        seq: expected,
        problem: `missing: the entries jump from seq ${expected - 1} to seq ${seq}`,
      };
    }
    const prevHash = previous ? previous.hash : genesisHash(chain);
    if (entry.prevHash !== prevHash) {
      return {
        chain,
        seq,
        problem: previous
          ? `prevHash is not the hash of seq ${previous.seq} (an entry was changed, removed or moved)`
          : 'prevHash is not the genesis hash of the chain',
      };
    }
    if (
      entry.redacted === true &&
      typeof entry.action === 'string' &&
      answeredWhole({ action: entry.action })
    ) {
      return {
        chain,
        seq,
        problem: 'a licence entry was answered redacted (licence entries are answered whole)',
      };
    }
    if (entry.redacted === true && typeof entry.contentDigest !== 'string') {
      return { chain, seq, problem: 'a redacted entry has no contentDigest' };
    }
    const hash = entryHash(entry);
    if (entry.hash !== hash) {
      return { chain, seq, problem: `the hash does not match the entry's content (recomputed ${hash})` };
    }
    if (entry.holderAttribution === 'mismatch') {
      return {
        chain,
        seq,
        problem:
          "the service found the entry's holder does not match its holderCommitment (re-attributed to another holder's usage record, or hidden from its holder's)",
      };
    }
    previous = { seq, hash };
  }
  return { chain, seq: previous?.seq ?? 0, hash: previous?.hash ?? '' };
}

import { chainIdPattern, closesDay, closingTime, entryHash } from '../../supervision/audit-chain.js';
import { verifyAuditTrail } from '../../supervision/audit-chain-verify.js';
import type { TrailPage } from './supervision-api.js';

/** What checking a licence's trail found. */
export type TrailResult =
  | {
      kind: 'intact';
      /** Chains recomputed (every chain of the days the licence's entries are on). */
      chains: number;
      /** When the newest verified checkpoint covering those days was signed. */
      checkpointAt?: string;
      /** The licence's chained entries after that checkpoint's heads: intact links, not yet signed. */
      unsigned: number;
    }
  | { kind: 'broken'; chain: string; seq: number; problem: string }
  /** No entry of the licence is on a chain (all written before chains existed). */
  | { kind: 'unchecked' }
  /**
   * Nothing found wrong, but the page cannot be shown intact: the API did not answer the entry the page
   * starts after (`after.entry`, an older release during a deploy), so an entry taken off the list at
   * that place could not be told from one that is there; or (`unclosedDay`) a past day the entries are on
   * has no closing checkpoint (none signed after the day ended names it), so its chains could have been
   * cut or rewritten whole unseen, as `npm run audit:verify` reports it (review R52).
   */
  | { kind: 'unverifiable'; problem: string; unclosedDay?: string };

/** At most this many days of chains are recomputed for one page view; the command checks any range. */
export const maxTrailDays = 10;

export interface LicenceTrailCheck {
  result: TrailResult;
  unchained: number;
  daysChecked: string[];
  daysSkipped: number;
}

/**
 * Checks a licence's trail as a third party would, through the public API only
 * (`verifyAuditTrail`: the checkpoints' signatures against the audit keys, then every chain of each day the
 * licence's entries are on, recomputed from its first entry). A licence's entries alone prove nothing
 * (an entry removed from the licence's list leaves no gap there), so the chains that hold them are
 * checked whole. Each of the licence's own entries must also hash to what it claims. The newest days are
 * checked first, up to {@link maxTrailDays}.
 *
 * `page` is one page of the licence's list as the API answered it. The pages partition the list: this one
 * holds every place after the one it starts after (`after`, absent on the first page) up to its own last
 * entry's (to the end, on the last page), so the licence's entries on the same chains but on other pages
 * are not "missing from its list", and an entry missing between two pages still is, on the later one.
 * Places are the API's (`positions`, opaque, ordered as text as the list is): compared, never taken apart,
 * so the check holds whatever the storage's keys look like.
 *
 * @example
 * ```ts
 * const page = await api.auditOfLicence(id, cursor);
 * const check = await checkLicenceTrail(issuerUrl, session.accessToken, id, page);
 * if (check.result.kind === 'broken') console.log(check.result.chain, check.result.seq);
 * ```
 */
export async function checkLicenceTrail(
  base: string,
  accessToken: string,
  licenceId: string,
  page: TrailPage,
  fetchImpl: typeof fetch = fetch,
  /** Now (epoch ms): which days have ended, and so need a closing checkpoint. */
  now: number = Date.now(),
): Promise<LicenceTrailCheck> {
  const entries = page.items;
  const chained = entries.filter((entry) => entry.chain !== undefined);
  const unchained = entries.length - chained.length;
  const anchored = page.after?.entry?.chain !== undefined ? [page.after.entry, ...chained] : chained;
  const days = [...new Set(anchored.map((entry) => chainIdPattern.exec(entry.chain!)?.[1] ?? ''))]
    .filter(Boolean)
    .sort()
    .reverse();
  const daysChecked = days.slice(0, maxTrailDays);
  const daysSkipped = days.length - daysChecked.length;
  const outcome = (result: TrailResult): LicenceTrailCheck => ({
    result,
    unchained,
    daysChecked,
    daysSkipped,
  });

  // The entry the page starts after (the cursor's) must still be on the list: a page that starts past an
  // entry taken off it would otherwise check clean, the entry being neither on it nor in its stretch
  // (R14 L2; the API's cursors are sealed, which proves only that it answered them).
  if (page.after?.entry === null) {
    return outcome({
      kind: 'broken',
      chain: '-',
      seq: 0,
      problem: 'the entry this page starts after is no longer on the licence’s list (its index was changed)',
    });
  }
  if (chained.length === 0) return outcome({ kind: 'unchecked' });
  // An API of the release before `after.entry` answered none (version skew during a deploy): the check
  // runs on the rest, and what it finds broken is broken, but the page is at best unverifiable.
  const anchorUnknown = page.after !== undefined && page.after.entry === undefined;

  const disorder = placesOutOfOrder(page);
  if (disorder) return outcome({ kind: 'broken', chain: '-', seq: 0, problem: disorder });

  // The anchor is checked as the page's own entries are (its hash, its day's chains, listed), but not
  // counted as this page's (`anchored`).
  for (const entry of anchored) {
    if (entry.hash !== entryHash(entry)) {
      return outcome({
        kind: 'broken',
        chain: entry.chain!,
        seq: entry.seq ?? 0,
        problem: 'the hash does not match the entry’s content',
      });
    }
  }

  const heads = new Map<string, number>();
  let checkpointAt: number | undefined;
  /** The newest past day checked that no checkpoint closes: the page is then unverifiable, never intact. */
  let unclosedDay: string | undefined;
  for (const day of daysChecked) {
    const report = await verifyAuditTrail({
      base,
      accessToken,
      from: day,
      to: day,
      fetch: fetchImpl,
      // Today, not yet ended, may be unsigned (its entries are counted as such); a past day must be
      // closed, as `npm run audit:verify` holds it, which is checked below (unverifiable, not broken).
      allowUnsigned: true,
      // This page's own entries are held to its stretch of the list below, not every list of the day.
      licenceLists: false,
      listFindings: false,
    });
    const [fault] = report.faults;
    if (fault) return outcome({ kind: 'broken', ...fault });
    // The licence's list is an index (gsi1), which no hash covers: an entry taken off it leaves the chain
    // intact. So every entry about this licence on the recomputed chains must also be on its list.
    // A page of a long trail lists a stretch of it: an entry before the page's first or after its last is
    // on another page.
    // The stretch includes the anchor's own place, which must be listed (as `after.entry`) too.
    const listed = new Set(anchored.map((entry) => `${entry.chain}#${entry.seq}`));
    const after = page.after?.position;
    const to = page.cursor !== undefined ? page.positions.at(-1) : undefined;
    // An entry the API gave no place is counted as this page's: fail closed. With the anchor unknown its
    // own place is left out (the result is then unverifiable, never intact).
    const onThisPage = (position: string | null | undefined): boolean =>
      position == null ||
      ((after === undefined || position > after || (position === after && !anchorUnknown)) &&
        (to === undefined || position <= to));
    const hidden = report.items.find(
      (item, i) =>
        item.licenceId === licenceId &&
        !listed.has(`${String(item.chain)}#${String(item.seq)}`) &&
        onThisPage(report.positions[i]),
    );
    if (hidden) {
      return outcome({
        kind: 'broken',
        chain: String(hidden.chain),
        seq: Number(hidden.seq),
        problem:
          'an entry of this licence is on the chain but missing from the licence’s list (its index was changed)',
      });
    }
    if (report.badCheckpoints.length > 0)
      return outcome({ kind: 'broken', chain: '-', seq: 0, problem: report.badCheckpoints[0]! });
    for (const checkpoint of report.checkpoints) {
      checkpointAt = Math.max(checkpointAt ?? 0, checkpoint.iat);
      for (const head of checkpoint.chains)
        heads.set(head.chain, Math.max(heads.get(head.chain) ?? 0, head.seq));
    }
    if (
      unclosedDay === undefined &&
      closingTime(day) <= now &&
      !report.checkpoints.some(
        (checkpoint) => checkpoint.days.includes(day) && closesDay(checkpoint.iat, day),
      )
    ) {
      unclosedDay = day;
    }
  }
  if (anchorUnknown) {
    return outcome({
      kind: 'unverifiable',
      problem:
        'the API did not answer the entry this page starts after (a release before it, during a deploy): reload the page in a few minutes',
    });
  }
  if (unclosedDay !== undefined) {
    return outcome({
      kind: 'unverifiable',
      unclosedDay,
      problem: `no closing checkpoint for ${unclosedDay}: no verified checkpoint signed after the day ended names it, so its chains could have been cut or rewritten whole unseen`,
    });
  }
  const checkedDays = new Set(daysChecked);
  const unsigned = chained.filter((entry) => {
    const day = chainIdPattern.exec(entry.chain!)?.[1] ?? '';
    return checkedDays.has(day) && (entry.seq ?? 0) > (heads.get(entry.chain!) ?? 0);
  }).length;
  return outcome({
    kind: 'intact',
    chains: new Set(chained.map((entry) => entry.chain)).size,
    ...(checkpointAt !== undefined ? { checkpointAt: new Date(checkpointAt * 1000).toISOString() } : {}),
    unsigned,
  });
}

/**
 * Why the page's places cannot be trusted to mark its stretch, if they cannot: each after the one before,
 * and after where the page says it starts (one per entry is the API client's check). The check draws the
 * page's stretch from them; places out of order (an API fault, or something between it and the console)
 * could draw it around an entry taken off the list and pass it over, so such a page is not reported
 * intact (fail closed).
 */
function placesOutOfOrder(page: TrailPage): string | undefined {
  let previous = page.after?.position;
  for (const place of page.positions) {
    if (previous !== undefined && !(place > previous))
      return 'the API’s places of this page’s entries are out of order';
    previous = place;
  }
  return undefined;
}

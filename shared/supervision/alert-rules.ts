import * as z from 'zod';
import type { AlertThresholds } from '../config.js';
import { InvalidInputError } from '../errors.js';
import { addDays, chinaDay, chinaDayStart, type SupervisionEvent } from './events.js';
import { chinaDate, daysOf, type StatisticsStore } from './statistics.js';

/** The rules, by the name an alert carries (docs/supervision-statistics-and-alerts.md describes each). */
export const alertRules = [
  'scan-failures-licence',
  'scan-failures-verifier',
  'bulk-status-change',
  'bulk-status-change-daily',
  'issuance-volume',
  'revoked-verified',
  'verification-flood-licence',
  'bulk-export',
  'bulk-export-daily',
] as const;
export type AlertRule = (typeof alertRules)[number];
export type Severity = 'high' | 'medium';

/** The verdicts that say a scan was forged, tampered with or garbage (not merely stale). */
export const failingVerdicts: readonly string[] = ['invalid_signature', 'malformed'];

/** The subject of scans without a verifier client: every anonymous scan counts towards one subject. */
export const anonymousSubject = 'anonymous';

/** One alert as answered and published: which rule, how serious, about whom, and why (figures included). */
export interface Alert {
  at: string;
  rule: AlertRule;
  severity: Severity;
  /** The licence id, verifier client id (or `anonymous`) or issuer id: never a holder's data. */
  subject: string;
  detail: string;
}

/** An alert as stored: its id is its rule, subject and window, so that it is created once. */
export interface StoredAlert extends Alert {
  id: string;
}

/**
 * Where rule counters and alerts are kept. Counters are per rule, subject and window, added atomically;
 * an alert is created once per id.
 */
export interface AlertStore {
  /** Adds `n` to counter `key` (created at 0, forgotten after `expiresAt`, epoch seconds); the new total. */
  count(key: string, n: number, expiresAt: number): Promise<number>;
  /**
   * Stores `alert`, not yet published (`published: false`), unless one with its id exists: `true` when
   * this call stored it.
   */
  create(alert: StoredAlert): Promise<boolean>;
  /** Whether the alert `id` exists and is neither published nor suppressed (a publish that failed). */
  pending(id: string): Promise<boolean>;
  /** Records that the alert `id` was published, or suppressed by the publishing cap. */
  settle(id: string, outcome: 'published' | 'suppressed'): Promise<void>;
  /**
   * The alerts raised from `from` to `to` (RFC 3339 instants, `to` excluded), oldest first (newest first
   * with `newestFirst`), of one `rule` if given, at most `limit` of them; `after` (an alert's
   * {@link alertPosition}) resumes after that alert in the listing's order. `more` says whether alerts may
   * follow the last one answered.
   */
  list(query: AlertListQuery): Promise<AlertPage>;
}

/** What {@link AlertStore.list} is asked. */
export interface AlertListQuery {
  from: string;
  to: string;
  limit: number;
  after?: string;
  newestFirst?: boolean;
  rule?: AlertRule;
}

/** One page of {@link AlertStore.list}: each alert with its position, which a next page resumes after. */
export interface AlertPage {
  items: (Alert & { position: string })[];
  more: boolean;
}

/** Where an alert sorts in a listing: its time, then its id (the index's sort key). */
export const alertPosition = (alert: { at: string; id: string }) => `${alert.at}#${alert.id}`;

/** Where a new alert is announced (the stack's SNS alarm topic; locally an outbox file). */
export interface AlertPublisher {
  publish(alert: Alert): Promise<void>;
}

/** Whether a licence is on record (the licence store's `get`: any answer means yes). */
export interface LicencesOnRecord {
  get(licenceId: string): Promise<object | undefined>;
}

/** What one batch observed for one counter: a rule, a subject and a window. */
interface Observation {
  rule: AlertRule;
  subject: string;
  windowStart: number;
  windowSeconds: number;
  n: number;
  lastAt: string;
  /** `bulk-status-change` and `bulk-export` only, once judged: the sliding estimate's parts ({@link slidingTotal}). */
  sliding?: { current: number; previous: number; weight: number };
}

/**
 * What a container remembers between batches: the alerts it knows exist (so a storm above a threshold
 * costs one counter update per batch, not a refused create per event) and the issuers' baselines per day
 * (past days' counts, read once). Both only save calls: the store stays the authority.
 */
export interface AlertMemory {
  created: Set<string>;
  baselines: Map<string, number>;
  /** Licence ids known to be on record (a licence is never deleted, so a yes stays true). */
  licences: Set<string>;
}

export const newAlertMemory = (): AlertMemory => ({
  created: new Set(),
  baselines: new Map(),
  licences: new Set(),
});

const day = 86_400;

function observe(
  observations: Map<string, Observation>,
  event: SupervisionEvent,
  rule: AlertRule,
  subject: string,
  window: { start: number; seconds: number },
  weight = 1,
): void {
  const key = `${rule}#${subject}#${new Date(window.start).toISOString()}`;
  const current = observations.get(key);
  if (current) {
    current.n += weight;
    if (event.at > current.lastAt) current.lastAt = event.at;
  } else {
    observations.set(key, {
      rule,
      subject,
      windowStart: window.start,
      windowSeconds: window.seconds,
      n: weight,
      lastAt: event.at,
    });
  }
}

/** The fixed window of `seconds` that `at` falls in (windows start at multiples of it since the epoch). */
function fixedWindow(at: string, seconds: number) {
  const size = seconds * 1000;
  return { start: Math.floor(Date.parse(at) / size) * size, seconds };
}

/** The China-time day of `at`, as a window. */
function dayWindow(at: string) {
  return { start: chinaDayStart(chinaDay(at)), seconds: day };
}

/** Which counters each event moves, per rule. */
function observationsOf(
  events: readonly SupervisionEvent[],
  thresholds: AlertThresholds,
  onRecord: ReadonlySet<string>,
) {
  const observations = new Map<string, Observation>();
  for (const event of events) {
    if (event.action === 'verified' && event.verdict && failingVerdicts.includes(event.verdict)) {
      const window = fixedWindow(event.at, thresholds.scanFailuresWindowSeconds);
      // A claimed id is anyone's to write (the scan's unverified `jti`): it counts only for a licence
      // on record, so forged scans cannot raise alerts about ids nobody issued.
      const claimed = event.claimedLicenceId && onRecord.has(event.claimedLicenceId);
      const target = event.licenceId ?? (claimed ? event.claimedLicenceId : undefined);
      if (target) observe(observations, event, 'scan-failures-licence', target, window);
      observe(observations, event, 'scan-failures-verifier', event.actor || anonymousSubject, window);
    }
    if (event.action === 'verified' && event.verdict === 'revoked' && event.licenceId) {
      observe(observations, event, 'revoked-verified', event.licenceId, dayWindow(event.at));
    }
    // Every verification of a licence the service identified (any verdict; QR code or printed copy, both
    // `licence.verified`), each one a line in its holder's usage record: a flood of them (anyone holding
    // a printed QR code can send it) buries the holder's genuine entries. Only `licenceId`, never a
    // claimed id: nobody can raise this alert about a licence by naming it.
    if (event.action === 'verified' && event.licenceId) {
      const window = fixedWindow(event.at, thresholds.verificationsWindowSeconds);
      observe(observations, event, 'verification-flood-licence', event.licenceId, window);
    }
    // A re-issue revokes the old licence as it issues its replacement: no licence is lost, so a bulk
    // re-issue (a withdrawn key's licences, docs/operating.md) is no bulk revocation.
    if ((event.action === 'revoked' && !event.replaced) || event.action === 'suspended') {
      const window = fixedWindow(event.at, thresholds.bulkStatusWindowSeconds);
      observe(observations, event, 'bulk-status-change', event.issuerId, window);
      observe(observations, event, 'bulk-status-change-daily', event.issuerId, dayWindow(event.at));
    }
    if (event.action === 'issued') {
      observe(observations, event, 'issuance-volume', event.issuerId, dayWindow(event.at));
    }
    // An issuer's CSV exports, by their rows: a console session (stolen or not) copying the holder list.
    if (event.action === 'exported' && event.rows) {
      const window = fixedWindow(event.at, thresholds.exportWindowSeconds);
      observe(observations, event, 'bulk-export', event.issuerId, window, event.rows);
      observe(observations, event, 'bulk-export-daily', event.issuerId, dayWindow(event.at), event.rows);
    }
  }
  return observations;
}

/**
 * Which of the licence ids the batch's failed scans claim are on record: each distinct id read once
 * (off the request path: /verify itself does not read a licence whose signature failed), remembered.
 */
async function claimedOnRecord(
  events: readonly SupervisionEvent[],
  deps: { licences: LicencesOnRecord; memory: AlertMemory },
): Promise<Set<string>> {
  const claimed = new Set(
    events.flatMap((event) =>
      event.action === 'verified' && event.verdict && failingVerdicts.includes(event.verdict)
        ? (event.claimedLicenceId ?? [])
        : [],
    ),
  );
  const unknown = [...claimed].filter((id) => !deps.memory.licences.has(id));
  const found = await Promise.all(
    unknown.map(async (id) => ((await deps.licences.get(id)) ? id : undefined)),
  );
  if (deps.memory.licences.size > 10_000) deps.memory.licences.clear();
  for (const id of found) if (id) deps.memory.licences.add(id);
  return new Set([...claimed].filter((id) => deps.memory.licences.has(id) || found.includes(id)));
}

const minutes = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

/**
 * The detail of a sliding rule's alert ({@link slidingRules}): `what` within the window, or, when the
 * window before still counts, the estimate and its parts ({@link slidingTotal}).
 */
function slidingDetail(
  what: string,
  total: number,
  sliding: Observation['sliding'],
  window: string,
  threshold: number,
): string {
  const { current, previous, weight } = sliding ?? { current: total, previous: 0, weight: 0 };
  return Math.floor(previous * weight) === 0
    ? `${total} ${what} within ${window} (threshold ${threshold})`
    : `about ${total} ${what} within the last ${window} (${current} in this window, ${previous} in the one before, ${Math.round(weight * 100)}% of which still within ${window}; threshold ${threshold})`;
}

/**
 * The issuer's mean issued per day over the 7 China-time days before `today`, from the statistics
 * counters (remembered per container: past days change only by late events).
 */
async function trailingMean(
  issuerId: string,
  today: string,
  deps: { statistics: StatisticsStore; memory: AlertMemory },
): Promise<number> {
  const id = `${issuerId}#${today}`;
  const known = deps.memory.baselines.get(id);
  if (known !== undefined) return known;
  const rows = await deps.statistics.read({
    from: addDays(today, -7),
    to: addDays(today, -1),
    issuerId,
    issuedOnly: true,
  });
  const mean = rows.reduce((sum, row) => sum + row.counts.issued, 0) / 7;
  if (deps.memory.baselines.size > 10_000) deps.memory.baselines.clear();
  deps.memory.baselines.set(id, mean);
  return mean;
}

/** The threshold of `observation`'s rule and the sentence that explains an alert at `total`. */
async function judge(
  observation: Observation,
  total: number,
  thresholds: AlertThresholds,
  deps: { statistics: StatisticsStore; memory: AlertMemory },
): Promise<{ threshold: number; severity: Severity; detail: string } | undefined> {
  const window = minutes(observation.windowSeconds);
  switch (observation.rule) {
    case 'scan-failures-licence': {
      const threshold = thresholds.scanFailuresPerLicence;
      return {
        threshold,
        severity: 'high',
        detail: `${total} invalid_signature or malformed verifications of this licence within ${window} (threshold ${threshold})`,
      };
    }
    case 'scan-failures-verifier': {
      const anonymous = observation.subject === anonymousSubject;
      const threshold = anonymous ? thresholds.scanFailuresAnonymous : thresholds.scanFailuresPerVerifier;
      return {
        threshold,
        severity: anonymous ? 'medium' : 'high',
        detail: `${total} invalid_signature or malformed verifications ${anonymous ? 'by anonymous scanners' : 'by this verifier app'} within ${window} (threshold ${threshold})`,
      };
    }
    case 'bulk-status-change': {
      const threshold = thresholds.bulkStatusChanges;
      return {
        threshold,
        severity: 'high',
        detail: slidingDetail(
          'licences revoked or suspended by this issuer',
          total,
          observation.sliding,
          window,
          threshold,
        ),
      };
    }
    case 'bulk-status-change-daily': {
      const threshold = thresholds.bulkStatusChangesPerDay;
      return {
        threshold,
        severity: 'high',
        detail: `${total} licences revoked or suspended by this issuer today, China time (threshold ${threshold})`,
      };
    }
    case 'revoked-verified':
      return {
        threshold: 1,
        severity: 'high',
        detail: `a revoked licence was presented for verification (${total} time${total === 1 ? '' : 's'} today, China time)`,
      };
    case 'verification-flood-licence': {
      const threshold = thresholds.verificationsPerLicence;
      return {
        threshold,
        severity: 'medium',
        detail: `${total} verifications of this licence (any verdict) within ${window} (threshold ${threshold})`,
      };
    }
    case 'bulk-export': {
      const threshold = thresholds.exportRows;
      return {
        threshold,
        severity: 'medium',
        detail: slidingDetail(
          "licences exported to CSV by this issuer's console",
          total,
          observation.sliding,
          window,
          threshold,
        ),
      };
    }
    case 'bulk-export-daily': {
      const threshold = thresholds.exportRowsPerDay;
      return {
        threshold,
        severity: 'medium',
        detail: `${total} licences exported to CSV by this issuer's console today, China time (threshold ${threshold})`,
      };
    }
    case 'issuance-volume': {
      // The baseline is read only once today's count could exceed the floor: most batches cost no read.
      if (total < thresholds.issuanceMinimum) return undefined;
      const today = chinaDay(observation.windowStart);
      const mean = await trailingMean(observation.subject, today, deps);
      const threshold = Math.max(thresholds.issuanceMinimum, Math.ceil(thresholds.issuanceFactor * mean));
      return {
        threshold,
        severity: 'medium',
        detail: `${total} licences issued today (China time) by this issuer, against a mean of ${mean.toFixed(1)} a day over the previous 7 days (threshold ${threshold}: ${thresholds.issuanceFactor}× the mean, at least ${thresholds.issuanceMinimum})`,
      };
    }
  }
}

/**
 * Runs the alert rules over a batch of events as they arrive: each rule's counter for the subject and
 * window is moved by the batch's events in one atomic add, and when the total reaches the rule's
 * threshold the alert is created (once: its id is its rule, subject and window, created conditionally)
 * and published. Returns the alerts this call raised.
 *
 * Counters are fixed windows (the window `at` falls in, from the epoch; a China-time day for the daily
 * rules), so a burst straddling two windows counts in both halves; `bulk-status-change` and `bulk-export`
 * judge their window together with the one before ({@link slidingTotal}), and each has a daily rule
 * beside it. A failed scan's claimed licence id
 * counts only when that licence is on record. At most `publishPerRulePerHour` alerts of one rule are
 * published per clock hour (a counter per rule and hour): the rest are stored and listed, not published,
 * so that nobody can flood the alarm topic. An alert is stored unpublished, published, then marked
 * published: if the publish fails, the batch's retry publishes it.
 *
 * @example
 * ```ts
 * const raised = await evaluateAlerts(events, { alerts, publisher, statistics, thresholds, memory });
 * ```
 */
export async function evaluateAlerts(
  events: readonly SupervisionEvent[],
  deps: {
    alerts: AlertStore;
    publisher: AlertPublisher;
    statistics: StatisticsStore;
    licences: LicencesOnRecord;
    thresholds: AlertThresholds;
    memory: AlertMemory;
  },
): Promise<Alert[]> {
  const raised: Alert[] = [];
  const onRecord = await claimedOnRecord(events, deps);
  for (const [key, observation] of observationsOf(events, deps.thresholds, onRecord)) {
    // Kept a day past the window's end: long enough for late events, short enough to cost nothing.
    const expiresAt = Math.floor(observation.windowStart / 1000) + observation.windowSeconds + day;
    const counted = await deps.alerts.count(key, observation.n, expiresAt);
    if (deps.memory.created.has(key)) continue;
    const total = slidingRules.has(observation.rule)
      ? await slidingTotal(observation, counted, deps.alerts)
      : counted;
    const verdict = await judge(observation, total, deps.thresholds, deps);
    if (!verdict || total < verdict.threshold) continue;
    const alert: StoredAlert = {
      id: key,
      at: observation.lastAt,
      rule: observation.rule,
      severity: verdict.severity,
      subject: observation.subject,
      detail: verdict.detail,
    };
    // Stored unpublished first, then published, then marked: a publish that fails rejects the batch, and
    // its retry finds the alert still pending and publishes it (at least once, never lost).
    const created = await deps.alerts.create(alert);
    if (!created && !(await deps.alerts.pending(key))) {
      remember(deps.memory, key);
      continue;
    }
    const { id: _id, ...published } = alert;
    const withinCap = await withinPublishingCap(alert, deps);
    if (withinCap) await deps.publisher.publish(published);
    await deps.alerts.settle(key, withinCap ? 'published' : 'suppressed');
    // Remembered only once settled: a container that failed to publish must not skip the alert later.
    remember(deps.memory, key);
    if (created) raised.push(published);
  }
  return raised;
}

/**
 * The rules judged over a sliding window ({@link slidingTotal}) rather than a clock-aligned one: the bulk
 * status changes (R24 L3) and the bulk exports (R36 L1), each with a daily rule beside it.
 */
const slidingRules: ReadonlySet<AlertRule> = new Set(['bulk-status-change', 'bulk-export']);

/**
 * A fixed window judged together with the one before it (the sliding-window approximation of common rate
 * limiters): this window's count plus the previous window's, weighted by the part of it that still lies
 * within one window of the observation's last event. Alone, fixed windows let 38 revocations in 2 minutes
 * across a clock hour pass as 19 and 19 (R24 L3). The previous count is read with an add of 0 (the same
 * atomic counter, one call); the estimate is rounded down, so an alert's figure is never overstated.
 */
async function slidingTotal(observation: Observation, current: number, alerts: AlertStore): Promise<number> {
  const size = observation.windowSeconds * 1000;
  const previousStart = observation.windowStart - size;
  const key = `${observation.rule}#${observation.subject}#${new Date(previousStart).toISOString()}`;
  const previous = await alerts.count(
    key,
    0,
    Math.floor(previousStart / 1000) + observation.windowSeconds + day,
  );
  const elapsed = Math.min(1, Math.max(0, (Date.parse(observation.lastAt) - observation.windowStart) / size));
  const weight = 1 - elapsed;
  observation.sliding = { current, previous, weight };
  return current + Math.floor(previous * weight);
}

function remember(memory: AlertMemory, key: string): void {
  if (memory.created.size > 10_000) memory.created.clear();
  memory.created.add(key);
}

/** Whether `alert` is among the first `publishPerRulePerHour` of its rule in its clock hour. */
async function withinPublishingCap(
  alert: StoredAlert,
  deps: { alerts: AlertStore; thresholds: AlertThresholds },
): Promise<boolean> {
  const hour = fixedWindow(alert.at, 3600);
  const key = `publish#${alert.rule}#${new Date(hour.start).toISOString()}`;
  const published = await deps.alerts.count(key, 1, Math.floor(hour.start / 1000) + 3600 + day);
  return published <= deps.thresholds.publishPerRulePerHour;
}

/**
 * `GET /supervision/alerts?from=&to=`: China-time dates, both included (at most 366 days), paged:
 * `limit` alerts at most (default 100), and `cursor` from the previous page; `order=newest` lists newest
 * first (default `oldest`), `rule=` only that rule's alerts.
 */
export const alertsQuery = z.strictObject({
  from: chinaDate,
  to: chinaDate,
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().min(1).max(400).optional(),
  // Newest first and one rule at a time: what a reader of a flooded range needs (R24 M2), the newest
  // alerts of every rule, however many of one rule a flood raised.
  order: z.enum(['oldest', 'newest']).default('oldest'),
  rule: z.enum(alertRules).optional(),
});

export const alertSchema = z
  .object({
    at: z.string().meta({ description: 'RFC 3339: the event that reached the threshold' }),
    rule: z.enum(alertRules),
    severity: z.enum(['high', 'medium']),
    subject: z
      .string()
      .meta({ description: 'A licence id, a verifier client id (or `anonymous`), or an issuer id' }),
    detail: z.string().meta({ description: 'Why: the figure and the threshold' }),
  })
  .meta({ title: 'Alert' });

export const alertListSchema = z
  .object({
    items: z.array(alertSchema),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Present when more alerts may follow: pass it back as `cursor`' }),
  })
  .meta({
    title: 'SupervisionAlerts',
    examples: [
      {
        items: [
          {
            at: '2026-03-01T09:30:00.000Z',
            rule: 'bulk-status-change',
            severity: 'high',
            subject: 'iss_3kq9x',
            detail: '20 licences revoked or suspended by this issuer within 60 min (threshold 20)',
          },
        ],
      },
    ],
  });

/** The cursor of a page whose last alert sat at `position`: opaque to callers. */
const encodeCursor = (position: string) =>
  Buffer.from(JSON.stringify({ after: position })).toString('base64url');

/** The position a cursor carries, refused (`invalid_cursor`) unless it lies within `from`..`to`. */
function decodeCursor(cursor: string, from: string, to: string): string {
  let after: unknown;
  try {
    after = (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown }).after;
  } catch {
    after = undefined;
  }
  if (typeof after !== 'string' || after < from || after >= to) {
    const message = 'not a cursor of this range';
    throw new InvalidInputError(`Invalid request: cursor: ${message}`, 'invalid_cursor', {
      errors: [{ path: 'cursor', message }],
    });
  }
  return after;
}

/**
 * The alerts raised on the China-time days `from` to `to` (both included; the range checked as the
 * statistics' is), oldest first or newest first (`order`), of every rule or one (`rule`), a page of at most
 * `limit` at a time: `cursor` is present when more may follow (a cursor carries a position only: it is
 * passed back with the same `order` and `rule`).
 *
 * @example
 * ```ts
 * const { items, cursor } = await listAlerts({ from: '2026-03-01', to: '2026-03-07', limit: 100 }, { alerts });
 * ```
 */
export async function listAlerts(
  query: z.output<typeof alertsQuery>,
  deps: { alerts: AlertStore },
): Promise<z.output<typeof alertListSchema>> {
  daysOf(query.from, query.to);
  const from = new Date(chinaDayStart(query.from)).toISOString();
  const to = new Date(chinaDayStart(addDays(query.to, 1))).toISOString();
  const after = query.cursor ? decodeCursor(query.cursor, from, to) : undefined;
  const page = await deps.alerts.list({
    from,
    to,
    limit: query.limit,
    ...(after ? { after } : {}),
    ...(query.order === 'newest' ? { newestFirst: true } : {}),
    ...(query.rule ? { rule: query.rule } : {}),
  });
  const last = page.items.at(-1);
  return {
    items: page.items.map(({ position: _position, ...alert }) => alert),
    ...(page.more && last ? { cursor: encodeCursor(last.position) } : {}),
  };
}

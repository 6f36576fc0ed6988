import * as z from 'zod';
import { sendApi } from '../console/issuer-api.js';

/** One day of `GET /supervision/stats` (API.md, Supervision): counts of events, by China-time day. */
export const statsDaySchema = z.object({
  date: z.string(),
  issued: z.number(),
  suspended: z.number(),
  reinstated: z.number(),
  revoked: z.number(),
  verified: z.record(z.string(), z.number()),
  shared: z.number(),
});
export type StatsDay = z.output<typeof statsDaySchema>;

/** One alert of `GET /supervision/alerts`. */
export const alertSchema = z.object({
  at: z.string(),
  rule: z.string(),
  severity: z.string(),
  subject: z.string(),
  detail: z.string(),
});
export type Alert = z.output<typeof alertSchema>;

/**
 * An entry of `GET /supervision/audit` as the trail page shows it: every member kept (`passthrough`),
 * since the hash covers all of them and the page recomputes it.
 */
export const trailEntrySchema = z.looseObject({
  at: z.string(),
  action: z.string(),
  actor: z.string(),
  clerk: z.string().optional(),
  verdict: z.string().optional(),
  reason: z.string().optional(),
  chain: z.string().optional(),
  seq: z.number().optional(),
  prevHash: z.string().optional(),
  hash: z.string().optional(),
});
export type TrailEntry = z.output<typeof trailEntrySchema>;

/**
 * A page of a licence's trail: its entries, each one's place in the list (`positions`, opaque, ordered as
 * text as the list is), where the page starts when it continues the list (`after`: with the entry it starts
 * after, or `null` when that entry is no longer on the list), and the cursor of the
 * next when more follow. The page never looks inside a cursor or a position (the API's, not its own).
 *
 * `after.entry` may be absent: an API of the release before it answered none, and during a deploy's canary
 * (docs/operating.md, "Version skew") the console may ask one. Such a page parses, and its check says it
 * cannot be verified (`checkLicenceTrail`), never that it is intact.
 */
const trailPageSchema = z
  .object({
    items: z.array(trailEntrySchema),
    positions: z.array(z.string()),
    after: z
      .object({ at: z.string(), position: z.string(), entry: trailEntrySchema.nullable().optional() })
      .optional(),
    cursor: z.string().optional(),
  })
  .refine((page) => page.positions.length === page.items.length, {
    message: 'one position per entry',
    path: ['positions'],
  });
export type TrailPage = z.output<typeof trailPageSchema>;

/**
 * Entries on one page of the trail view (the API's default page): one request a page, and one page's days
 * of chains recomputed, however long the licence's trail (a printed QR code scanned a million times).
 */
export const trailPageSize = 500;

/**
 * The most alerts of one rule the overview lists, the newest: 8 rules of 250 keep the page near the 2,000
 * it listed before, and a flood of one rule (forged scans) never pushes another rule's alert off it.
 */
export const maxAlertsPerRule = 250;

/**
 * The rules the overview asks for, one listing each (the API's `rule=`): those of
 * `shared/supervision/alert-rules.ts`, named here so that the page's bundle does not import the rules.
 */
export const overviewAlertRules = [
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

/** The overview's alerts: each rule's newest, and the rules of which older ones are not shown. */
export interface AlertOverview {
  /** Newest first. */
  items: Alert[];
  /** Rules with more alerts in the range than the {@link maxAlertsPerRule} listed. */
  cut: string[];
}

/** An issuer as the trust list names it, for the page's filter: only what the menu shows. */
const trustListIssuers = z.object({
  issuers: z.array(z.object({ id: z.string(), name: z.string(), status: z.string() })),
});
export type IssuerChoice = z.output<typeof trustListIssuers>['issuers'][number];

/**
 * The supervision page's client of the supervision API (`/supervision/*`), over HTTP with the supervisor
 * client's own access token: like the issuer console, the page is a backend-for-frontend with no
 * privilege of its own, so a supervisor sees here exactly what its API client could read.
 *
 * @example
 * ```ts
 * const api = new SupervisionApi(issuerUrl, session.accessToken);
 * const days = await api.stats({ from: '2026-11-06', to: '2026-12-05', issuer: 'iss_…' });
 * ```
 */
export class SupervisionApi {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  /** Every day of `from`..`to` (inclusive, `YYYY-MM-DD`), optionally of one issuer and one type. */
  async stats(query: { from: string; to: string; issuer?: string; type?: string }): Promise<StatsDay[]> {
    const answer = z.object({ days: z.array(statsDaySchema) });
    return answer.parse(await this.json(`/supervision/stats?${search(query)}`)).days;
  }

  /**
   * The alerts raised from `from` to `to` (dates), newest first: of each rule its newest
   * {@link maxAlertsPerRule} (the API's `order=newest&rule=`), and which rules had more (R24 M2: the
   * oldest 2,000 of a flooded week, listed oldest first and cut, hid every newer alert, of any rule).
   */
  async alerts(query: { from: string; to: string }): Promise<AlertOverview> {
    const answer = z.object({ items: z.array(alertSchema), cursor: z.string().optional() });
    const perRule = await Promise.all(
      overviewAlertRules.map(async (rule) => {
        const items: Alert[] = [];
        let cursor: string | undefined;
        do {
          const limit = String(Math.min(500, maxAlertsPerRule - items.length));
          const page = answer.parse(
            await this.json(
              `/supervision/alerts?${search({ ...query, order: 'newest', rule, limit, cursor })}`,
            ),
          );
          items.push(...page.items);
          cursor = page.cursor;
        } while (cursor && items.length < maxAlertsPerRule);
        return { rule, items: items.slice(0, maxAlertsPerRule), cut: cursor !== undefined };
      }),
    );
    return {
      items: perRule.flatMap(({ items }) => items).toSorted((a, b) => b.at.localeCompare(a.at)),
      cut: perRule.filter(({ cut }) => cut).map(({ rule }) => rule),
    };
  }

  /**
   * A page of a licence's audit entries, oldest first, each with its place on its hash chain: at most
   * {@link trailPageSize}, after `cursor` (the API's, opaque); `cursor` answered when more follow.
   */
  async auditOfLicence(licenceId: string, cursor?: string): Promise<TrailPage> {
    return trailPageSchema.parse(
      await this.json(
        `/supervision/audit?${search({ licence: licenceId, limit: String(trailPageSize), cursor })}`,
      ),
    );
  }

  /**
   * The issuers the platform's trust list names, for the filter menu. Read, not verified: it only
   * labels a menu, and the figures shown are the supervision API's, whatever the menu says.
   */
  async issuers(): Promise<IssuerChoice[]> {
    const response = await this.fetchImpl(new URL('/trust-list', this.baseUrl), {
      signal: AbortSignal.timeout(10_000),
    });
    if (!response.ok) throw new Error(`GET /trust-list answered ${response.status}`);
    const payload = (await response.text()).split('.')[1] ?? '';
    return trustListIssuers.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'))).issuers;
  }

  private async json(path: string): Promise<unknown> {
    const response = await sendApi(this.baseUrl, this.accessToken, 'GET', path, { fetch: this.fetchImpl });
    return response.json();
  }
}

function search(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value) params.set(name, value);
  return params.toString();
}

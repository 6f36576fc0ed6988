import * as z from 'zod';
import { auditEntrySchema, type LicenceAuditPages, type PageStart } from '../audit/audit-trail.js';
import type { TrailCursors, TrailListing } from './trail-cursors.js';
import { forSupervisor } from './audit-chain.js';
import type { AuditChainStore, AuditPage } from './audit-chain-store.js';
import { maxDaysPerRequest, validRange } from './checkpoints.js';

const day = z.iso.date();

/**
 * `GET /supervision/audit`: one licence's entries (`licence`), or the entries of the UTC days
 * `from`..`to` (at most 31), optionally one issuer's (`issuer`); either paged by `limit` and `cursor`.
 */
export const supervisionAuditQuery = z
  .strictObject({
    licence: z.string().min(1).max(200).optional(),
    issuer: z.string().min(1).max(100).optional(),
    from: day.optional(),
    to: day.optional(),
    cursor: z.string().min(1).max(400).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(500),
  })
  .superRefine((query, ctx) => {
    if (query.licence !== undefined) {
      for (const name of ['issuer', 'from', 'to'] as const) {
        if (query[name] !== undefined)
          ctx.addIssue({ code: 'custom', path: [name], message: 'not with licence' });
      }
      return;
    }
    if (query.from === undefined)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'required without licence' });
    if (query.to === undefined)
      ctx.addIssue({ code: 'custom', path: ['to'], message: 'required without licence' });
    if (query.from && query.to && !validRange(query.from, query.to)) {
      ctx.addIssue({
        code: 'custom',
        path: ['to'],
        message: `must be from..from+${maxDaysPerRequest - 1} days`,
      });
    }
  });

/** An entry not about a licence (accounts, sign-ins, grants) as supervisors see it: no one's profile. */
export const redactedAuditEntrySchema = z
  .strictObject({
    at: z.string().meta({ description: 'RFC 3339' }),
    action: z.string().meta({ description: '`account.registered`, `authorization.granted`, …' }),
    chain: z.string().optional(),
    seq: z.number().int().optional(),
    prevHash: z.string().optional(),
    hash: z.string().optional(),
    contentDigest: z.string().optional().meta({
      description:
        "SHA-256 (hex) of the entry's content as canonical JSON: what its `hash` covers in its stead",
    }),
    holderAttribution: z.literal('mismatch').optional().meta({
      description: "Present only when the service found the entry's holder does not match its commitment",
    }),
    withdrawal: z.string().optional().meta({
      description:
        "As the entry's own (`authorization.withdrawn` saved in several writes): the withdrawal's id, which names no one",
    }),
    part: z
      .int()
      .optional()
      .meta({ description: "As the entry's own: which of the withdrawal's entries, 1 to `parts`" }),
    parts: z
      .int()
      .optional()
      .meta({ description: "As the entry's own: how many entries the withdrawal was planned in" }),
    redacted: z.literal(true),
  })
  .meta({ title: 'RedactedAuditEntry' });

/** What `GET /supervision/audit` answers. */
export const supervisionAuditSchema = z
  .object({
    items: z.array(z.union([auditEntrySchema, redactedAuditEntrySchema])),
    positions: z.array(z.string().nullable()).meta({
      description:
        "One per item, in order: where the entry stands in its licence's list, opaque, but ordered as text (code units) as the list is, so that a reader can tell which of a day's entries fall within a page of a licence's list; computed from the entry's content, so an entry taken off the list has one too. `null` for an entry about no licence. Not a cursor. Outside the entries, which their hashes cover whole",
    }),
    listed: z.array(z.boolean().nullable()).optional().meta({
      description:
        "A day range only: one per item, in order, whether the entry is on its licence's list at its place (`positions`), as the service finds it from the stored item's own index keys; `false` is an entry taken off its list (which no hash shows: `npm run audit:verify` reports it); `null` for an entry about no licence. Outside the entries, which their hashes cover whole",
    }),
    after: z
      .strictObject({
        at: z.string().meta({ description: 'RFC 3339' }),
        position: z.string().meta({ description: 'Of the same kind as `positions`' }),
        entry: z.union([auditEntrySchema, redactedAuditEntrySchema]).nullable().meta({
          description:
            "The entry the cursor stands on (the last the page before answered), as `items` are answered, read in the same query as the page; `null` when it is no longer on the licence's list (taken off since the cursor was answered): the list was changed, and a reader reports the trail broken",
        }),
      })
      .optional()
      .meta({
        description:
          "A licence's list asked with a `cursor`: where the page starts (its entries are those after this place); absent on the first page and on a day range",
      }),
    cursor: z.string().optional().meta({
      description:
        'Present when more entries follow: pass it back as `cursor`, with the same `licence`, or the same `from`, `to` and `issuer` (it is sealed to them: any other cursor is a `400` `invalid_cursor`)',
    }),
  })
  .meta({ title: 'SupervisionAuditTrail' });

/**
 * The entries a supervisor asked for, masked holders only (the holder's lookup key is never answered),
 * entries not about a licence redacted to their time, action and chain link (still verifiable):
 * a licence's story in time order (a page of it), or a day range in chain order (each chain's entries by `seq`),
 * which is what recomputing the chains needs. Each entry's place in its licence's list goes beside it
 * (`positions`), and a page of a licence's list asked after a cursor says where it starts (`after`): what a
 * reader checking one page of a long list needs, without knowing what a cursor holds.
 *
 * 1. The cursor, if any, is opened for this listing and query (`deps.trailCursors`): only a cursor this service
 *    answered for the same licence, or the same days and issuer, is taken (security review R14 L2). A page
 *    made to start anywhere else (just past an entry taken off the licence's list, say) would be checked
 *    from there and pass, though no 下一页 leads to it; it is refused, `invalid_cursor`.
 * 2. The page is read from the store after the store's own cursor, with the entry the cursor stands on
 *    (`after.entry`), or `null` when that entry is no longer on the licence's list: a sealed cursor proves
 *    the service answered it, not that its entry was not taken off the list since (R14 L2). Answered, not
 *    refused, so that a reader (the console's trail check) reports the page broken rather than retrying.
 * 3. The entries are answered as supervisors see them, and the next page's cursor sealed the same way.
 *
 * @example
 * ```ts
 * const page = await listAudit({ from: '2026-12-05', to: '2026-12-05', limit: 500 }, deps);
 * ```
 */
export async function listAudit(
  query: z.output<typeof supervisionAuditQuery>,
  deps: {
    auditPages: LicenceAuditPages;
    auditChains: AuditChainStore;
    trailCursors: TrailCursors;
    config: { auditHolderCommitmentsSince: string | undefined };
  },
): Promise<z.output<typeof supervisionAuditSchema>> {
  // 1. What the cursor is sealed to: the listing and its query, `limit` aside.
  const listing: TrailListing =
    query.licence !== undefined
      ? { listing: 'supervision-licence', licence: query.licence }
      : { listing: 'supervision-days', from: query.from!, to: query.to!, issuer: query.issuer ?? null };
  const cursor = query.cursor === undefined ? undefined : await deps.trailCursors.open(listing, query.cursor);
  // 2. The page.
  const page: (Omit<AuditPage, 'listed'> & Partial<Pick<AuditPage, 'listed'>>) & { after?: PageStart } =
    query.licence !== undefined
      ? await deps.auditPages.licencePage(query.licence, {
          limit: query.limit,
          ...(cursor ? { cursor } : {}),
        })
      : await deps.auditChains.entries({
          from: query.from!,
          to: query.to!,
          limit: query.limit,
          ...(query.issuer ? { issuerId: query.issuer } : {}),
          ...(cursor ? { cursor } : {}),
        });
  // 3. As supervisors see them (the anchor too, or `null` when it is gone), and the next page's cursor sealed.
  const rule = { commitmentsSince: deps.config.auditHolderCommitmentsSince };
  return {
    items: page.items.map((entry) => forSupervisor(entry, rule)),
    positions: page.positions,
    ...(page.listed ? { listed: page.listed } : {}),
    ...(page.after
      ? {
          after: {
            ...page.after,
            entry: page.after.entry === null ? null : forSupervisor(page.after.entry, rule),
          },
        }
      : {}),
    ...(page.cursor ? { cursor: await deps.trailCursors.seal(listing, page.cursor) } : {}),
  };
}

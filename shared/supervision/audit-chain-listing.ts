import * as z from 'zod';
import { auditEntrySchema, type LicenceAuditPages } from '../audit/audit-trail.js';
import { forSupervisor } from './audit-chain.js';
import type { AuditChainStore } from './audit-chain-store.js';
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
    redacted: z.literal(true),
  })
  .meta({ title: 'RedactedAuditEntry' });

/** What `GET /supervision/audit` answers. */
export const supervisionAuditSchema = z
  .object({
    items: z.array(z.union([auditEntrySchema, redactedAuditEntrySchema])),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'Present when more entries follow: pass it back as `cursor`' }),
  })
  .meta({ title: 'SupervisionAuditTrail' });

/**
 * The entries a supervisor asked for, masked holders only (the holder's lookup key is never answered),
 * entries not about a licence redacted to their time, action and chain link (still verifiable):
 * a licence's story in time order (a page of it), or a day range in chain order (each chain's entries by `seq`),
 * which is what recomputing the chains needs.
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
    config: { auditHolderCommitmentsSince: string | undefined };
  },
): Promise<z.output<typeof supervisionAuditSchema>> {
  const page =
    query.licence !== undefined
      ? await deps.auditPages.licencePage(query.licence, {
          limit: query.limit,
          ...(query.cursor ? { cursor: query.cursor } : {}),
        })
      : await deps.auditChains.entries({
          from: query.from!,
          to: query.to!,
          limit: query.limit,
          ...(query.issuer ? { issuerId: query.issuer } : {}),
          ...(query.cursor ? { cursor: query.cursor } : {}),
        });
  return {
    items: page.items.map((entry) =>
      forSupervisor(entry, { commitmentsSince: deps.config.auditHolderCommitmentsSince }),
    ),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

import * as z from 'zod';
import type { Clock } from '../clock.js';
import { epochSeconds } from '../clock.js';
import { signCompactJws } from '../crypto/compact-jws.js';
import type { Signer } from '../crypto/signer.js';
import type { AuditChainStore, StoredCheckpoint } from './audit-chain-store.js';
import type { ChainHead } from './audit-chain.js';

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

/** True when `from`..`to` is at most {@link maxDaysPerRequest} days, in order. */
export function validRange(from: string, to: string): boolean {
  const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  return span >= 0 && span < maxDaysPerRequest;
}

/** What a checkpoint signs (its JWS payload). */
export const checkpointPayloadSchema = z
  .object({
    iss: z.string(),
    iat: z.number().int(),
    days: z.array(z.string()),
    chains: z.array(z.object({ chain: z.string(), seq: z.number().int(), hash: z.string() })),
  })
  .meta({ title: 'AuditCheckpointPayload' });

/** A stored checkpoint as listed: when, and the compact JWS. */
export const checkpointSchema = z
  .object({
    at: z.string().meta({ description: 'RFC 3339: when it was signed' }),
    jws: z.string().meta({
      description:
        'Compact JWS, header `typ: audit-checkpoint+jwt`, ES256 with the platform key (`kid` in /.well-known/jwks.json); payload `{ iss, iat, days, chains: [{ chain, seq, hash }] }`',
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
 * Signs a checkpoint of the heads of every chain started on the given UTC days (yesterday and today by
 * default: a chain lives at most one UTC day, so the daily run sees each chain's final head the day after),
 * and stores it. Each head is read from the table (the chain's last entry), not from the writers' memory.
 *
 * @example
 * ```ts
 * const { jws } = await signCheckpoint({}, { auditChains, platformSigner, clock, iss: config.issuerUrl });
 * ```
 */
export async function signCheckpoint(
  input: z.output<typeof checkpointInput>,
  deps: { auditChains: AuditChainStore; platformSigner: Signer; clock: Clock; iss: string },
): Promise<StoredCheckpoint & { chains: ChainHead[] }> {
  const today = new Date(deps.clock.now()).toISOString().slice(0, 10);
  const yesterday = new Date(deps.clock.now() - 86_400_000).toISOString().slice(0, 10);
  const days = daysFrom(input.from ?? yesterday, input.to ?? today);
  const chains = (
    await Promise.all(
      days.map(async (d) => {
        const registered = await deps.auditChains.chainsOf(d);
        return Promise.all(registered.map((chain) => deps.auditChains.headOf(chain)));
      }),
    )
  )
    .flat()
    .filter((head): head is ChainHead => head !== undefined)
    .sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  const iat = epochSeconds(deps.clock);
  const jws = await signCompactJws(
    { typ: checkpointTokenType },
    { iss: deps.iss, iat, days, chains } satisfies z.output<typeof checkpointPayloadSchema>,
    deps.platformSigner,
  );
  const checkpoint = { at: new Date(iat * 1000).toISOString(), jws };
  await deps.auditChains.saveCheckpoint(checkpoint);
  return { ...checkpoint, chains };
}

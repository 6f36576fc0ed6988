import * as z from 'zod';
import { issuerViewSchema } from './issuer.js';
import type { Clock } from '../clock.js';
import type { KeyManager } from '../crypto/key-manager.js';
import type { Signer } from '../crypto/signer.js';
import { parseCreditCode } from '../identifiers/credit-code.js';
import { issueParams } from '../errors.js';
import { logger } from '../logger.js';
import { randomId } from '../random-id.js';
import { onClientSecretKey, type ClientSecrets } from '../clients/client-secrets.js';
import type { ClientStore } from '../clients/client-store.js';
import type { Issuer } from './issuer.js';
import type { IssuerStore } from './issuer-store.js';

const divisionCode = z.string().regex(/^[1-8]\d{5}$/, 'must be a six-digit administrative division code');

export const createIssuerInput = z.strictObject({
  name: z.string().trim().min(2).max(100),
  creditCode: z.string().transform((value, ctx) => {
    try {
      return parseCreditCode(value);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message, params: issueParams(error) });
      return z.NEVER;
    }
  }),
  region: divisionCode,
  /** Where it may issue regional licence types; its `region` by default. */
  jurisdiction: z
    .array(divisionCode)
    .min(1)
    .max(100)
    .transform((codes) => [...new Set(codes)])
    .optional(),
  licenceTypes: z
    .array(z.string().regex(/^[a-z][a-z0-9-]{1,47}$/, 'must be a licence type code such as driving-licence'))
    .min(1)
    .max(50)
    .transform((codes) => [...new Set(codes)]),
});
export type CreateIssuerInput = z.output<typeof createIssuerInput>;

export interface CreateIssuerDependencies {
  issuers: IssuerStore;
  keys: KeyManager;
  signerFor(keyId: string): Signer;
  clients: ClientStore;
  secrets: ClientSecrets;
  clock: Clock;
}

/** What `POST /admin/issuers` answers: the issuer, and its client's secret (shown once). */
export const createdIssuerAnswerSchema = issuerViewSchema
  .extend({ clientSecret: z.string().meta({ description: 'The secret of its client; shown once' }) })
  .meta({ title: 'CreatedIssuer' });

export interface CreatedIssuer {
  issuer: Issuer;
  clientSecret: string;
}

/**
 * Onboards an issuing agency: claims its credit code (one conditional write, so concurrent duplicates
 * yield exactly one issuer), creates its own KMS signing key and its OAuth client (scope
 * `licences:issue`), then activates it. If any step fails, what was created is undone and the credit
 * code released, so a retry starts clean.
 *
 * @example
 * ```ts
 * const { issuer, clientSecret } = await createIssuer(input, deps);
 * ```
 */
export async function createIssuer(
  input: CreateIssuerInput,
  deps: CreateIssuerDependencies,
): Promise<CreatedIssuer> {
  const claimed = await deps.issuers.claim({
    id: randomId('iss'),
    name: input.name,
    creditCode: input.creditCode,
    region: input.region,
    jurisdiction: input.jurisdiction ?? [input.region],
    licenceTypes: input.licenceTypes,
    status: 'provisioning',
    createdAt: new Date(deps.clock.now()).toISOString(),
    version: 0,
  });

  let keyId: string | undefined;
  let clientId: string | undefined;
  try {
    const key = await deps.keys.createSigningKey({
      description: `elicence issuer ${claimed.id} (${claimed.creditCode})`,
      tags: { service: 'elicence', role: 'issuer-signing', issuer: claimed.id },
      alias: `alias/elicence/issuer/${claimed.id}`,
    });
    keyId = key.keyId;
    const signer = deps.signerFor(key.keyId);
    const publicJwk = await signer.publicJwk();
    const kid = await signer.kid();

    clientId = randomId('cl');
    const markers = onClientSecretKey();
    await deps.clients.save({
      client_id: clientId,
      client_name: claimed.name,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      scope: 'licences:issue',
      token_endpoint_auth_method: 'client_secret_basic',
      issuer_id: claimed.id,
      ...markers,
    });

    const issuer = await deps.issuers.save({ ...claimed, status: 'active', keyId, kid, publicJwk, clientId });
    return { issuer, clientSecret: await deps.secrets.secretFor(clientId, markers) };
  } catch (error) {
    await undo(deps, claimed, keyId, clientId);
    throw error;
  }
}

async function undo(deps: CreateIssuerDependencies, claimed: Issuer, keyId?: string, clientId?: string) {
  const attempt = async (what: string, step: () => Promise<void>) => {
    try {
      await step();
    } catch (error) {
      logger.error('issuer onboarding could not be undone', {
        issuerId: claimed.id,
        what,
        error: String(error),
      });
    }
  };
  if (clientId) await attempt('client', () => deps.clients.delete(clientId));
  if (keyId) await attempt('key', () => deps.keys.scheduleDeletion(keyId));
  await attempt('claim', () => deps.issuers.release(claimed));
}

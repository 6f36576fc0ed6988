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
import { saveIssuerChange, type IssuerChangeDependencies } from './issuer-audit.js';

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

/**
 * What onboarding needs: the issuer's activation is saved with its audit entry (`issuer.created`) in the
 * pending work of operators' changes (`operatorAudit`, {@link IssuerChangeDependencies}).
 */
export interface CreateIssuerDependencies extends IssuerChangeDependencies {
  keys: KeyManager;
  signerFor(keyId: string): Signer;
  clients: ClientStore;
  secrets: ClientSecrets;
  clock: Clock;
}

/** Who onboards an issuer: the operator's client, and the request (for the audit entry). */
export interface OnboardingContext {
  clientId: string;
  requestId?: string | undefined;
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
 * `licences:issue`), derives that client's secret, then activates it. If any step before the activation
 * fails, what was created is undone and the credit code released, so a retry starts clean. An activation
 * that fails is read back first ({@link activationOutcome}): one written after all (its outcome was
 * unknown) is answered as made, and one that cannot be read back is left as it is: an issuer in force
 * never loses its key and client to a rollback.
 *
 * The activation (the issuer in force: it signs licences from then on) is saved with its audit entry
 * `issuer.created` (the operator's client, the issuer, its credit code, region and licence types) as one
 * write ({@link saveIssuerChange}): never an issuer in force untraced. An entry that cannot be written
 * at once is written by the reconciler a minute later; the issuer stands and is answered with its
 * secret: it is the secret of a client nobody held before (unlike a rotation's, it locks no one out),
 * and withholding it would leave an issuer whose credit code is taken and whose secret nobody was shown.
 *
 * @example
 * ```ts
 * const { issuer, clientSecret } = await createIssuer(input, { clientId: 'cl_op' }, deps);
 * ```
 */
export async function createIssuer(
  input: CreateIssuerInput,
  context: OnboardingContext,
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
  let activated: Issuer;
  let clientSecret: string;
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

    // Derived before the activation: once the issuer is in force nothing is undone, so nothing may fail after.
    clientSecret = await deps.secrets.secretFor(clientId, markers);
    activated = { ...claimed, status: 'active', keyId, kid, publicJwk, clientId };
  } catch (error) {
    await undo(deps, claimed, keyId, clientId);
    throw error;
  }

  try {
    const issuer = await saveIssuerChange(
      activated,
      {
        at: new Date(deps.clock.now()).toISOString(),
        actor: context.clientId,
        action: 'issuer.created',
        issuerId: claimed.id,
        reason: `${claimed.creditCode} region ${claimed.region}, licence types ${claimed.licenceTypes.join(' ')}`,
        ...(context.requestId !== undefined && { requestId: context.requestId }),
      },
      deps,
    );
    return { issuer, clientSecret };
  } catch (error) {
    // The activation's outcome may be unknown (a timeout; or the SDK's retry of a write that had landed,
    // refused as a stale version): the issuer is read again before anything is undone. One in force is
    // answered as activated (its `issuer.created` entry was saved with it: the reconciler writes it).
    const outcome = await activationOutcome(deps, activated);
    if (outcome.activated) {
      logger.warn('issuer activation answered an error but was written', {
        issuerId: claimed.id,
        error: String(error),
      });
      return { issuer: outcome.activated, clientSecret };
    }
    if (outcome.unknown) {
      logger.error('issuer onboarding could not be undone', {
        issuerId: claimed.id,
        what: 'activation outcome unknown',
        error: String(error),
      });
      throw error;
    }
    await undo(deps, claimed, keyId, clientId);
    throw error;
  }
}

/**
 * Whether an activation that failed (or seemed to) was written after all: the issuer read again by its
 * credit code, in force with this onboarding's key and client (`activated`: it signs licences, and its
 * `issuer.created` entry was saved with it, for the reconciler to write). `unknown` when it cannot be read:
 * then nothing is undone, for an issuer in force must never lose its key and client to a rollback (the
 * claim stays, and the operator is told by the error and the alarm's log line).
 */
async function activationOutcome(
  deps: CreateIssuerDependencies,
  activated: Issuer,
): Promise<{ activated?: Issuer; unknown?: true }> {
  try {
    const found = await deps.issuers.findByCreditCode(activated.creditCode);
    const inForce =
      found?.id === activated.id &&
      found.status !== 'provisioning' &&
      found.keyId === activated.keyId &&
      found.clientId === activated.clientId;
    return inForce ? { activated: found } : {};
  } catch {
    return { unknown: true };
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

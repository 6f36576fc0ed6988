import type { ClientMetadata } from 'oidc-provider';
import * as z from 'zod';
import type { AuditTrail } from '../audit/audit-trail.js';
import type { Clock } from '../clock.js';
import { clientAuditPrefix, saveWithTrace, type PendingWorkIndex } from '../pending-work/pending-work.js';
import { randomId } from '../random-id.js';
import { onClientSecretKey, type ClientSecrets } from './client-secrets.js';
import type { ClientStore } from './client-store.js';
import { isLoopbackHost, onUnreachableHost } from './public-addresses.js';

/** Scopes the admin may grant a registered platform or verifier app (not `admin`, not `licences:issue`). */
const registrableScopes = [
  'openid',
  'profile',
  'idcard',
  'entity',
  'licences',
  'offline_access',
  'licences:verify',
  'supervision',
];

/** Scopes of machine clients (client credentials): they sign nobody in, so they need no redirect URI. */
const machineScopes: readonly string[] = ['licences:verify', 'supervision'];

const redirectUri = z
  .url({ protocol: /^https?$/ })
  .max(2000)
  .refine((value) => !value.includes('#'), 'must not contain a fragment')
  .refine((value) => {
    // zod runs this check also on a value the URL check refused (already reported): not a fault.
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return true;
    }
    return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  }, 'must use https (http only for localhost)');

/**
 * A platform's events endpoint (withdrawal notices): https, or http only for localhost; never a private,
 * link-local or reserved address (a loopback one only for a platform on the same machine, which the
 * sender refuses in production). Checked alike at registration and when an operator changes it.
 */
const eventsUri = redirectUri.refine(
  (value) => !onUnreachableHost(value) || isLoopbackHost(new URL(value)),
  'must be a public host: notices are never sent to private or link-local addresses',
);

/** Why an events endpoint is refused on a client that signs nobody in. */
export const eventsUriNeedsSignIn = 'only for platforms that sign people in (redirectUris)';

export const registerClientInput = z
  .strictObject({
    name: z.string().trim().min(2).max(100),
    redirectUris: z.array(redirectUri).max(10).default([]),
    scopes: z
      .array(z.enum(registrableScopes as [string, ...string[]]))
      .min(1)
      .transform((s) => [...new Set(s)]),
    postLogoutRedirectUris: z.array(redirectUri).max(10).optional(),
    tokenEndpointAuthMethod: z
      .enum(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'])
      .default('client_secret_basic'),
    jwksUri: z.url({ protocol: /^https$/ }).optional(),
    /** The service's own applications: no consent page (the person already trusts the service). */
    firstParty: z.boolean().default(false),
    /**
     * How the platform's ID tokens (and logout tokens) are signed: ES256 with the platform key, or RS256
     * with the platform's RSA key for OpenID libraries that expect OpenID Connect's mandatory algorithm
     * (Spring Security's default ID token decoder, for one).
     */
    idTokenSignedResponseAlg: z.enum(['ES256', 'RS256']).default('ES256'),
    /** OpenID Back-Channel Logout: where the platform is told that a session ended. */
    backchannelLogoutUri: redirectUri
      .refine(
        (value) => !onUnreachableHost(value),
        'must be a public host: the provider never posts logout tokens to loopback, private or link-local addresses',
      )
      .optional(),
    /**
     * Where the platform is told that a person withdrew a share or their sign-in consent (a signed Security
     * Event Token, RFC 8417: shared/sharing/withdrawal-notices.ts), so that it deletes its copies. https;
     * http and loopback only for a platform on the same machine, which the sender refuses in production
     * (an https issuer), as it refuses any name resolving to a private address.
     */
    eventsUri: eventsUri.optional(),
    /**
     * The lowest assurance level (`acr`, `urn:elicence:loa:1..3`: identity/assurance.ts, a layer this one
     * does not import) every sign-in at this platform must reach; a person below it is stepped up.
     */
    minAcr: z
      .string()
      .regex(/^urn:elicence:loa:[123]$/, 'must be one of acr_values_supported (urn:elicence:loa:1..3)')
      .optional(),
    /**
     * The Rich Authorization Request types (RFC 9396) the platform may ask for: `licence_access` lets it
     * ask a person to share licences (授权用证, shared/sharing/). A client without it that asks gets
     * `invalid_authorization_details`.
     */
    authorizationDetailsTypes: z
      .array(z.enum(['licence_access']))
      .transform((types) => [...new Set(types)])
      .optional(),
  })
  .superRefine((input, ctx) => {
    const signsIn = input.scopes.some((s) => !machineScopes.includes(s));
    // The supervising office's client reads every licence's trail: never a client people sign in to,
    // whose user tokens would then carry it (or whose sign-ins would carry a supervisor's reach).
    if (input.scopes.includes('supervision') && signsIn) {
      ctx.addIssue({
        code: 'custom',
        path: ['scopes'],
        message: 'supervision is a machine-only scope: not with openid or other scopes that sign people in',
      });
    }
    if (signsIn && input.redirectUris.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['redirectUris'],
        message: 'required for scopes that sign people in',
      });
    }
    // `licences` opens the holder API, every licence the person holds: the wallet's (and the service's
    // other first-party apps'). A platform reads licences only through a share (授权用证, `licence_access`:
    // per type, with a purpose and an expiry, listed and withdrawable in the wallet), privacy review R9 H1.
    if (input.scopes.includes('licences') && !input.firstParty) {
      ctx.addIssue({
        code: 'custom',
        path: ['scopes'],
        message:
          'licences is for first-party apps only (firstParty): a platform asks for licences with authorization_details of type licence_access (authorizationDetailsTypes)',
      });
    }
    if (input.tokenEndpointAuthMethod === 'none' && input.scopes.some((s) => machineScopes.includes(s))) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokenEndpointAuthMethod'],
        message: 'a public client cannot use client credentials (licences:verify, supervision)',
      });
    }
    if (input.authorizationDetailsTypes?.length && input.redirectUris.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['authorizationDetailsTypes'],
        message: 'only for platforms that sign people in (redirectUris)',
      });
    }
    if (input.eventsUri && input.redirectUris.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['eventsUri'], message: eventsUriNeedsSignIn });
    }
    if (input.tokenEndpointAuthMethod === 'private_key_jwt' && !input.jwksUri) {
      ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: 'required with private_key_jwt' });
    }
  });
export type RegisterClientInput = z.output<typeof registerClientInput>;

/**
 * The body of `PATCH /admin/clients/{id}`: what an operator may change on a registered client. Today its
 * events endpoint (`eventsUri`, the same checks as at registration; `null` removes it), so that a platform
 * registered before withdrawal notices, or one that moves its endpoint, can be told.
 */
export const updateClientInput = z
  .strictObject({
    eventsUri: eventsUri.nullable().optional().meta({
      description: 'Where withdrawal notices are posted (docs/integrating.md); `null` removes it',
    }),
  })
  .superRefine((input, ctx) => {
    if (input.eventsUri === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['eventsUri'],
        message: 'required: the field to change (null removes the events endpoint)',
      });
    }
  })
  .meta({ title: 'UpdateClient' });
export type UpdateClientInput = z.output<typeof updateClientInput>;

/** What `PATCH /admin/clients/{id}` answers: the client's changeable settings as they now are. */
export const updatedClientSchema = z
  .object({
    clientId: z.string(),
    eventsUri: z.string().nullable().meta({ description: 'The events endpoint; `null` when none' }),
  })
  .meta({
    title: 'UpdatedClient',
    examples: [{ clientId: 'cl_8Hk2mQ0xV3', eventsUri: 'https://platform.example/elicence/events' }],
  });
export type UpdatedClient = z.output<typeof updatedClientSchema>;

/** What `POST /admin/clients` answers: {@link registerClient} is typed by it; the OpenAPI document publishes it. */
export const registeredClientSchema = z
  .object({
    clientId: z.string(),
    clientSecret: z
      .string()
      .optional()
      .meta({ description: 'Shown once; absent for public clients and `private_key_jwt`' }),
  })
  .meta({
    title: 'RegisteredClient',
    examples: [{ clientId: 'cl_8Hk2mQ0xV3', clientSecret: 'Xk1…shown-once' }],
  });
export type RegisteredClient = z.output<typeof registeredClientSchema>;

/** What registering a client takes: its store and secrets, and where its audit entry is saved until written. */
export interface RegisterClientDependencies {
  clients: ClientStore;
  secrets: ClientSecrets;
  /** The pending work of operators' changes (`admin`'s own index). */
  operatorAudit: PendingWorkIndex;
  audit: AuditTrail;
  clock: Clock;
}

/**
 * Registers a relying platform (authorization code + PKCE) or a verifier app (client credentials with
 * `licences:verify`), or one client that is both. Grant types follow from the scopes asked for.
 *
 * 1. Derives its secret (shown once; from the client-secret key), before anything is written: nothing
 *    fails after the client is registered.
 * 2. Registers it (a new record, never over another) with its trace `client.registered` (the operator's
 *    client, the client registered, its name and scopes: a platform that may sign people in or read
 *    their licences), as one write ({@link saveWithTrace}, `client-changed#<client id>#registered`), then
 *    writes the entry: never a client that works untraced. An entry that cannot be written at once is
 *    written by the reconciler a minute later; the client stands and is answered with its secret, a
 *    secret nobody held before (unlike a rotation's, it locks no one out).
 *
 * @example
 * ```ts
 * await registerClient({ name: '政务服务网', redirectUris: ['https://gov.example/cb'], scopes: ['openid'] }, { clientId: 'cl_op' }, deps);
 * ```
 */
export async function registerClient(
  input: RegisterClientInput,
  context: { clientId: string; requestId?: string | undefined },
  deps: RegisterClientDependencies,
): Promise<RegisteredClient> {
  const clientId = randomId('cl');
  // 1. Its secret derives from the client-secret key (the record says so; without the marker, the lookup key).
  const markers = onClientSecretKey();
  const hasSecret = input.tokenEndpointAuthMethod.startsWith('client_secret');
  const clientSecret = hasSecret ? await deps.secrets.secretFor(clientId, markers) : undefined;
  // 2. The client and its trace, one write; then the entry.
  await saveWithTrace(
    `${clientAuditPrefix}${clientId}#registered`,
    {
      at: new Date(deps.clock.now()).toISOString(),
      actor: context.clientId,
      action: 'client.registered',
      targetClientId: clientId,
      reason: `${input.name}: scopes ${input.scopes.join(' ')}`,
      ...(context.requestId !== undefined && { requestId: context.requestId }),
    },
    (trace) => deps.clients.register({ ...clientMetadata(clientId, input), ...markers }, trace),
    { ...deps, pendingAudit: deps.operatorAudit },
  );
  return { clientId, ...(clientSecret !== undefined ? { clientSecret } : {}) };
}

/** The provider's metadata for a client registered with `input`: grant types follow from the scopes. */
export function clientMetadata(
  clientId: string,
  input: RegisterClientInput,
): ClientMetadata & { client_id: string } {
  const signsIn = input.redirectUris.length > 0;
  return {
    client_id: clientId,
    client_name: input.name,
    grant_types: [
      ...(signsIn ? ['authorization_code'] : []),
      ...(signsIn && input.scopes.includes('offline_access') ? ['refresh_token'] : []),
      ...(input.scopes.some((s) => machineScopes.includes(s)) ? ['client_credentials'] : []),
    ],
    response_types: signsIn ? ['code'] : [],
    redirect_uris: input.redirectUris,
    post_logout_redirect_uris: input.postLogoutRedirectUris ?? [],
    scope: input.scopes.join(' '),
    token_endpoint_auth_method: input.tokenEndpointAuthMethod,
    ...(input.jwksUri ? { jwks_uri: input.jwksUri } : {}),
    ...(input.firstParty ? { first_party: true } : {}),
    ...(input.minAcr ? { min_acr: input.minAcr } : {}),
    ...(input.authorizationDetailsTypes?.length
      ? { authorization_details_types: input.authorizationDetailsTypes }
      : {}),
    // ES256 is the provider's default for every client; only the exception is stored.
    ...(input.idTokenSignedResponseAlg === 'RS256' ? { id_token_signed_response_alg: 'RS256' } : {}),
    ...(input.eventsUri ? { events_uri: input.eventsUri } : {}),
    ...(input.backchannelLogoutUri
      ? { backchannel_logout_uri: input.backchannelLogoutUri, backchannel_logout_session_required: true }
      : {}),
  };
}

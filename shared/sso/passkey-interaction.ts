import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { ServiceError } from '../errors.js';
import { httpStatusOf } from '../http/error-mapping.js';
import { logger } from '../logger.js';
import { acrOf, levelOfAcr, type AssuranceLevel } from '../identity/assurance.js';
import type { IdentityDirectory } from '../identity/identity-directory.js';
import {
  passkeyAssertion,
  passkeyEndedBy,
  passkeySignInOptions,
  relyingPartyOf,
  verifyPasskeySignIn,
  type PasskeyDependencies,
} from '../identity/passkeys.js';
import { parseAccountId } from '../identifiers/account-id.js';
import { stepSignIn } from './sign-in-results.js';

const route = /^\/interaction\/([A-Za-z0-9_-]{1,64})\/(passkeyoptions|passkey)$/;
const maxBodyBytes = 16 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > maxBodyBytes) throw new errors.InvalidRequest('body too large');
  }
  try {
    return JSON.parse(body) as unknown;
  } catch {
    throw new errors.InvalidRequest('the body must be JSON');
  }
}

/**
 * Passkey sign-in on the unified sign-in page (API.md: the button 使用通行密钥登录), two JSON endpoints the
 * page's script (`shared/web/browser/passkey-sign-in.ts`) calls within the sign-in's interaction:
 *
 * - `POST /interaction/{uid}/passkeyoptions` → the options for `navigator.credentials.get` (discoverable
 *   credentials, user verification required), their challenge stored, bound to this interaction;
 * - `POST /interaction/{uid}/passkey` with the assertion → `{ location }`, where the browser goes on (the
 *   provider's resume URL), the sign-in finished at level 3 with `amr` `['swk']`; or `401 invalid_passkey`.
 *
 * Both need the interaction's own cookie (the provider's `interactionDetails`), the uid of the path to be
 * that interaction's, the step to be the sign-in, and a same-origin request (`Origin`): another site can
 * neither fetch options for a visitor's sign-in nor finish it.
 */
export function passkeyInteractionRoutes(
  provider: Provider,
  deps: PasskeyDependencies & { directory: IdentityDirectory; issuerUrl: string },
) {
  const rp = relyingPartyOf(deps.issuerUrl);
  return async (ctx: KoaContextWithOIDC, next: () => Promise<void>): Promise<void> => {
    const matched = route.exec(ctx.path);
    if (!matched) return next();
    const answer = (status: number, body: unknown) => {
      ctx.status = status;
      ctx.set({ 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = body;
    };
    const refuse = (status: number, error: string, description: string) =>
      answer(status, { error, error_description: description });
    if (ctx.method !== 'POST') return refuse(405, 'method_not_allowed', 'POST only');
    if (ctx.get('origin') !== rp.origin)
      return refuse(403, 'cross_site_request', 'same-origin requests only');
    try {
      const details = await provider.interactionDetails(ctx.req, ctx.res);
      if (details.uid !== matched[1] || details.prompt.name !== 'login') {
        return refuse(400, 'invalid_request', 'not a sign-in step');
      }
      if (matched[2] === 'passkeyoptions') {
        return answer(200, await passkeySignInOptions(details.uid, rp, deps));
      }
      const parsed = passkeyAssertion.safeParse(await readJson(ctx.req));
      if (!parsed.success) {
        return answer(400, {
          error: 'invalid_request',
          error_description: 'the body must be a WebAuthn assertion',
          errors: parsed.error.issues.map((issue) => ({
            path: issue.path.join('.'),
            message: issue.message,
          })),
        });
      }
      const signedIn = await verifyPasskeySignIn(details.uid, parsed.data, rp, deps);
      const person = await deps.directory.findPerson(parseAccountId(signedIn.accountId).personId);
      // A passkey a takeover or a reset removes, or failed to remove (its clean-up runs after the account's
      // save, or is left owed), signs no one in from that save on (review R47 F1): the same answer as an
      // unknown one.
      if (!person || passkeyEndedBy(signedIn.createdAt, person)) {
        if (person) logger.info('passkey sign-in refused', { reason: 'enrolled before the sign-ins ended' });
        return refuse(401, 'invalid_passkey', 'The passkey could not be verified');
      }
      // A passkey is a possession factor enrolled at level 3: the sign-in reaches level 3, but never more
      // than the account itself now stands at.
      const level = Math.min(levelOfAcr(person.accountAcr ?? person.acr) ?? 1, 3) as AssuranceLevel;
      const location = await provider.interactionResult(
        ctx.req,
        ctx.res,
        // With the step's time and the account's version as read now (review R44).
        {
          login: stepSignIn(
            { accountId: person.id, acr: acrOf(level), amr: signedIn.amr },
            person,
            deps.clock,
          ),
        },
        { mergeWithLastSubmission: false },
      );
      logger.info('signed in with a passkey', { clientId: details.params.client_id });
      return answer(200, { location });
    } catch (error) {
      if (error instanceof errors.OIDCProviderError) {
        return refuse(error.statusCode ?? 400, error.error, error.error_description ?? error.message);
      }
      if (error instanceof ServiceError && error.expose) {
        return refuse(httpStatusOf(error), error.code, error.message);
      }
      throw error;
    }
  };
}

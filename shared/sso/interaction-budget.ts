import { formatAccountId } from '../identifiers/account-id.js';
import { acrValuesSupported } from '../identity/assurance.js';
import { interactionCookieBytes, MAX_INTERACTION_COOKIE_BYTES } from './interaction-cookies.js';

/**
 * What an interaction's cookie (shared/sso/interaction-cookies.ts) must leave free at the authorization
 * request, beyond the largest the interaction can become ({@link largestInteraction}): room for what that
 * projection may not foresee (a result or a hint the provider adds in a later version).
 */
export const INTERACTION_COOKIE_MARGIN_BYTES = 200;

/** A person's account id as the service makes it (`randomId`: `acc_` and 16 characters). */
const PERSON_ID = `acc_${'x'.repeat(16)}`;
/**
 * An enterprise's account id (`ent_…`, as long) with the acting person's: a session acts for one only
 * when the request asks for scope `entity` (provider.ts, `entity_mode_mismatch`).
 */
const ENTITY_ACCOUNT_ID = formatAccountId({
  kind: 'entity',
  entityId: `ent_${'x'.repeat(16)}`,
  personId: PERSON_ID,
});
/** oidc-provider's ids (a session's uid, a grant's id): nanoid, 43 characters. */
const PROVIDER_ID = 'x'.repeat(43);
/** A session's id, its cookie: `<uid>.<random>` (shared/sso/session-ids.ts). */
const SESSION_ID = `${PROVIDER_ID}.${'x'.repeat(43)}`;
const LONGEST_ACR = [...acrValuesSupported].sort((a, b) => b.length - a.length)[0]!;
/**
 * The longest `amr` a sign-in has (docs/openid-connect.md): one way of signing in (`pwd`, `swk`, `mca`,
 * or `sms` for a reset), and `sms` added by a step-up.
 */
const LONGEST_AMR = ['pwd', 'sms'];
/** Epoch seconds, ten digits. */
const SIGN_IN_TIME = 9_999_999_999;

/**
 * The reasons each prompt may give once the person is signed in, all at once (the provider's and ours:
 * provider.ts). No `native_client_prompt`: platforms register web clients.
 */
const loginReasons = [
  'max_age',
  'id_token_hint',
  'claims_id_token_sub_value',
  'account_unavailable',
  'acr_too_low',
];
const consentReasons = ['op_scopes_missing', 'op_claims_missing', 'rs_scopes_missing', 'rar_prompt'];

/**
 * The largest the interaction `payload` (as the provider first saves it, at the authorization request)
 * may become before the sign-in ends, for the interaction cookie: the same request (`params`), then
 * signed in (the session's account, uid, cookie, `acr`, `amr`, sign-in time, as provider.ts keeps them),
 * at the step whose prompt repeats the most of the request, with the results of the steps before it and
 * its own; or as it is now, if that is larger. The steps (login, step-up, the enterprise chooser, consent) come in that order, each a new
 * interaction that carries the previous one's result (`lastSubmission`); a step's prompt repeats part of
 * the request: the step-up's its `max_age`, `login_hint` and `id_token_hint`, the consent's its scopes
 * (twice: OpenID and our API's) and its `authorization_details` (parsed), the chooser nothing. Each
 * value the longest the service makes: an enterprise's account id when the request asks for `entity`,
 * a person's otherwise, the longest `amr` and `acr`, every reason of the prompt.
 *
 * @example
 * ```ts
 * const largest = largestInteraction(payload, 'https://id.example.gov.cn');
 * interactionCookieBytes(uid, largest, exp, { secure: true }); // the most its cookie will take
 * ```
 */
export function largestInteraction(
  payload: Record<string, unknown>,
  issuerUrl: string,
): Array<Record<string, unknown>> {
  const params = (payload.params ?? {}) as Record<string, unknown>;
  const scopes = String(params.scope ?? '')
    .split(' ')
    .filter(Boolean);
  const accountId = scopes.includes('entity') ? ENTITY_ACCOUNT_ID : PERSON_ID;
  const login = { accountId, ts: SIGN_IN_TIME, acr: LONGEST_ACR, amr: LONGEST_AMR };
  const signedIn = {
    accountId,
    grantId: PROVIDER_ID,
    session: {
      accountId,
      uid: PROVIDER_ID,
      cookie: SESSION_ID,
      acr: LONGEST_ACR,
      amr: LONGEST_AMR,
      loginTs: SIGN_IN_TIME,
    },
    lastSubmission: { login },
  };
  const hints = Object.fromEntries(
    ['max_age', 'login_hint', 'id_token_hint'].flatMap((name) =>
      params[name] === undefined ? [] : [[name, params[name]]],
    ),
  );
  const rar = parsedOrUndefined(params.authorization_details);
  const claims = claimNames(params.claims);
  return [
    // As it is now (a session acting for an enterprise, with a request that is not: the step back).
    payload,
    {
      ...payload,
      ...signedIn,
      prompt: { name: 'login', reasons: loginReasons, details: hints },
      result: { login },
    },
    {
      ...payload,
      ...signedIn,
      prompt: { name: 'select_entity', reasons: ['entity_mode_mismatch'], details: {} },
      result: { login },
    },
    {
      ...payload,
      ...signedIn,
      prompt: {
        name: 'consent',
        reasons: consentReasons,
        details: {
          missingOIDCScope: scopes,
          ...(claims.length > 0 && { missingOIDCClaims: claims }),
          missingResourceScopes: { [issuerUrl]: scopes },
          ...(rar !== undefined && { rar }),
        },
      },
      result: { login, consent: { grantId: PROVIDER_ID } },
    },
  ];
}

/**
 * Why the interaction `payload`, saved for `uid` at the authorization request, leaves a sign-in no room
 * for its steps in a browser's cookie; undefined when it does. The most its cookie can take
 * ({@link largestInteraction}) must stay {@link INTERACTION_COOKIE_MARGIN_BYTES} under what the service
 * ever sets ({@link MAX_INTERACTION_COOKIE_BYTES}): refused here, the platform gets `invalid_request` at
 * its redirect URI, instead of the person a dead end after typing their password.
 *
 * @example
 * ```ts
 * const problem = interactionBudgetProblem(uid, payload, exp, { issuerUrl, secure: true });
 * if (problem) throw new errors.InvalidRequest(problem);
 * ```
 */
export function interactionBudgetProblem(
  uid: string,
  payload: Record<string, unknown>,
  expiresAt: number,
  options: { issuerUrl: string; secure: boolean },
): string | undefined {
  const budget = MAX_INTERACTION_COOKIE_BYTES - INTERACTION_COOKIE_MARGIN_BYTES;
  const largest = Math.max(
    ...largestInteraction(payload, options.issuerUrl).map((one) =>
      interactionCookieBytes(uid, one, expiresAt, { secure: options.secure }),
    ),
  );
  if (largest <= budget) return undefined;
  return (
    `the authorization request is too large: with its state, authorization_details, claims and hints, ` +
    `the sign-in's steps would need ${largest} bytes of a cookie, more than ${budget} ` +
    `(docs/openid-connect.md, "How large a request may be")`
  );
}

function parsedOrUndefined(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

/** The claim names a `claims` parameter asks for, in the ID token and at userinfo. */
function claimNames(value: unknown): string[] {
  const parsed = parsedOrUndefined(value) as Record<string, unknown> | undefined;
  if (!parsed || typeof parsed !== 'object') return [];
  return [parsed.id_token, parsed.userinfo].flatMap((asked) =>
    asked && typeof asked === 'object' ? Object.keys(asked) : [],
  );
}

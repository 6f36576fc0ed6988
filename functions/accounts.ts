import { composition } from './composition/dependencies.js';
import { handledAbove, routesOf } from './dispatch.js';
import {
  kms,
  doc,
  accessTokens,
  dpopProofs,
  accounts,
  entities,
  registry,
  carrier,
  auditOf,
  lookupMac,
  pii,
  passwords,
  loginAttempts,
  smsCodes,
  smsJobs,
  smsJobSealer,
  securityNotices,
  clientReader,
  passkeys,
  signIns,
  sharingGrants,
  platformSubject,
  platformConsents,
  accountAudit,
  issuers,
  clerkReference,
} from './composition/factories.js';
import {
  ForbiddenError,
  InvalidInputError,
  ServiceError,
  TooManyRequestsError,
  UnsupportedMediaTypeError,
} from '../shared/errors.js';
import { decodeFormBody } from '../shared/http/form-body.js';
import { fieldErrorText } from '../shared/web/kit/field-messages.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { httpStatusOf } from '../shared/http/error-mapping.js';
import { authenticateBearer, authenticatePerson } from '../shared/http/authenticate.js';
import { bodyBytes, header, maxBodyBytes, parseJsonBody } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import { sameOrigin } from '../shared/web/kit/form.js';
import { webHandler, type PageContext } from '../shared/web/web-handler.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { logger } from '../shared/logger.js';
import type * as z from 'zod';
import {
  agentView,
  authorityView,
  type agentListSchema,
  type appointedAgentSchema,
  type authorityListSchema,
} from '../shared/identity/entity-account.js';
import {
  appointAgent,
  actForEntityInput,
  appointAgentInput,
  canActFor,
  entitiesFor,
  listAgents,
  withdrawAgent,
} from '../shared/identity/entities.js';
import {
  personAccountView,
  requireSignInNotEnded,
  type PersonAccount,
} from '../shared/identity/person-account.js';
import {
  registerPageErrors,
  registerPageHeaders,
  renderRegisterPage,
  type RegisterPageState,
} from '../shared/web/pages/register-page.js';
import { codeThrottled } from '../shared/web/pages/interaction-phone-pages.js';
import { registerPerson, registerPersonInput } from '../shared/identity/register-person.js';
import { registerWithPhoneCode, sendRegistrationCode } from '../shared/identity/register-phone-code.js';
import { smsCodePolicy } from '../shared/identity/sms-codes.js';
import { findPersonById } from '../shared/identity/verify-password.js';
import {
  counterLookup,
  counterLookupInput,
  counterProofInput,
  counterProofScope,
  proveAtCounter,
  type counterAccountSchema,
  type counterCodeSentSchema,
  type counterProofSchema,
} from '../shared/identity/counter-proof.js';
import { issuerActor } from '../shared/licence/issuer-actor.js';
import { parseAccountId } from '../shared/identifiers/account-id.js';
import { requireFirstParty } from '../shared/clients/first-party.js';
import {
  accountHoldings,
  closeAccount,
  closeAccountInput,
  type accountHoldingsSchema,
  type closedAccountSchema,
} from '../shared/identity/close-account.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({
  kms,
  doc,
  accessTokens,
  dpopProofs,
  accounts,
  entities,
  registry,
  carrier,
  audit: auditOf('accounts'),
  lookupMac,
  pii,
  passwords,
  loginAttempts,
  smsCodes,
  smsJobs,
  smsJobSealer,
  // The security notice a proof at a counter owes its holder (shared/identity/security-notices.ts).
  securityNotices,
  clientReader,
  passkeys,
  signIns,
  // Closing an account withdraws its consents to platforms, each platform told (a withdrawal notice).
  sharingGrants,
  platformSubject,
  platformConsents,
  // Registrations' and agents' audit entries saved until written: their own partition, no other pending work.
  accountAudit,
  // A counter clerk's proofs (`/counter/accounts/…`): the clerk checked as the issuer API checks one.
  issuers,
  clerkReference,
});
type Dependencies = ReturnType<typeof dependencies>;
const served = routesOf('accounts');

/**
 * People's accounts: registration (`POST /accounts`, and the `/register` page), and the entities a
 * signed-in person acts for and their agents (`/me/entities…`, scope `entity`, from a first-party client).
 */
export async function handler(event: HttpEvent): Promise<HttpResult> {
  return served.is(event, 'GET /register', 'POST /register') ? registerPage(event) : api(event);
}

const api = apiHandler(async (event: HttpEvent): Promise<HttpResult> => {
  const deps = dependencies();
  const requestId = event.requestContext?.requestId;
  if (served.is(event, 'POST /accounts')) {
    const account = await registerPerson(parseJsonBody(event, registerPersonInput), registering(deps), {
      requestId,
      source: event.requestContext.http.sourceIp,
    });
    return json(201, personAccountView(account));
  }

  if (served.is(event, 'GET /me/account', 'DELETE /me/account')) return ownAccount(event, deps);
  if (served.is(event, 'POST /counter/accounts/lookup', 'POST /counter/accounts/prove'))
    return counterProof(event, deps);

  const person = await signedInPerson(event, deps);
  const now = new Date(deps.clock.now());
  const creditCode = event.pathParameters?.creditCode ?? '';
  return served.dispatch(event, {
    'POST /accounts': handledAbove,
    'GET /register': handledAbove,
    'POST /register': handledAbove,
    'GET /me/account': handledAbove,
    'DELETE /me/account': handledAbove,
    'POST /counter/accounts/lookup': handledAbove,
    'POST /counter/accounts/prove': handledAbove,
    'GET /me/entities': async () =>
      json(200, {
        items: (await entitiesFor(person, now, deps)).map(authorityView),
      } satisfies z.output<typeof authorityListSchema>),
    'POST /me/entities': async () => {
      const input = parseJsonBody(event, actForEntityInput);
      const authority = await canActFor(person, input.creditCode, now, deps);
      if (!authority) {
        throw new ForbiddenError(
          'Neither the entity registry nor an appointment by its legal representative names you for this entity',
          'not_authorised_for_entity',
        );
      }
      return json(200, authorityView(authority));
    },
    'GET /me/entities/{creditCode}/agents': async () => {
      const { appointments, appointer } = await listAgents(person, creditCode, deps);
      return json(200, {
        items: appointments.map((a) => agentView(a, now, appointer)),
      } satisfies z.output<typeof agentListSchema>);
    },
    'POST /me/entities/{creditCode}/agents': async () => {
      const input = parseJsonBody(event, appointAgentInput);
      const appointment = await appointAgent(person, creditCode, input, deps, { requestId });
      const { agentId, masked, scope, expiresAt } = agentView(appointment, now, {
        lookupKey: person.lookupKey,
        term: appointment.appointerTerm ?? '',
      });
      return json(
        201,
        { agentId, masked, scope, expiresAt } satisfies z.output<typeof appointedAgentSchema>,
        {
          location: `/me/entities/${encodeURIComponent(appointment.creditCode)}/agents/${encodeURIComponent(agentId)}`,
        },
      );
    },
    'DELETE /me/entities/{creditCode}/agents/{agentId}': async () => {
      await withdrawAgent(person, creditCode, event.pathParameters?.agentId ?? '', deps, { requestId });
      return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
    },
  });
}, served.edge);

/**
 * A counter clerk proving a person in person (当面核验, shared/identity/counter-proof.ts): the issuer
 * console's token of a clerk whose appointment lists `accounts:prove-in-person` besides `licences:issue`,
 * at level 3, for an active issuer (`issuerActor`, checked on every call). `lookup` shows the account,
 * masked; `prove` raises it and keeps, sets or clears its proven phone, audited with the clerk's reference.
 */
async function counterProof(event: HttpEvent, deps: Dependencies): Promise<HttpResult> {
  const caller = await authenticateBearer(event, 'licences:issue', deps);
  const actor = await issuerActor(caller, deps, { alsoScope: counterProofScope });
  const clerk = {
    actor: caller.clientId,
    clerk: actor.clerk,
    issuerId: actor.issuer.id,
    requestId: event.requestContext.requestId,
    source: event.requestContext.http.sourceIp,
  };
  if (served.is(event, 'POST /counter/accounts/lookup')) {
    const input = parseJsonBody(event, counterLookupInput);
    return json(
      200,
      (await counterLookup(input, clerk, deps)) satisfies z.output<typeof counterAccountSchema>,
      {
        'cache-control': 'no-store',
      },
    );
  }
  const input = parseJsonBody(event, counterProofInput);
  const proof = await proveAtCounter(input, clerk, deps);
  if ('codeSent' in proof)
    return json(202, proof satisfies z.output<typeof counterCodeSentSchema>, { 'cache-control': 'no-store' });
  return json(200, proof satisfies z.output<typeof counterProofSchema>, { 'cache-control': 'no-store' });
}

/** Registration's dependencies: with what completing a closure left part-way needs (register-person.ts). */
function registering(deps: Dependencies) {
  return { ...deps, closures: deps };
}

/**
 * `GET /me/account` (what the account holds) and `DELETE /me/account` (closing it): a person's token with
 * scope `licences` from a first-party app (403 `first_party_only`: a platform the person signed in to
 * must neither read the account whole nor close it); closing needs a fresh sign-in at the account's level
 * (403 `fresh_sign_in_required`) and the password typed again in the body (400 `password_required`, 403
 * `wrong_password`: shared/identity/close-account.ts).
 */
async function ownAccount(event: HttpEvent, deps: Dependencies): Promise<HttpResult> {
  const caller = await authenticatePerson(event, deps);
  await requireFirstParty(caller.clientId, deps, 'The account is managed in the wallet (我的证照) only');
  const { personId } = parseAccountId(caller.accountId);
  if (served.is(event, 'GET /me/account')) {
    return json(
      200,
      (await accountHoldings(personId, deps, caller.authTime)) satisfies z.output<
        typeof accountHoldingsSchema
      >,
    );
  }
  if (parseAccountId(caller.accountId).kind !== 'person') {
    // Acting for an enterprise is not the person's own sign-in to close their account with.
    throw new ForbiddenError('Close the account from a personal sign-in', 'personal_sign_in_required');
  }
  // A token alone closes nothing (review R10): the password comes typed again in the request itself.
  if (bodyBytes(event).length === 0) {
    throw new InvalidInputError(
      'Closing the account needs its password typed again: a JSON body {"password": "…"}',
      'password_required',
      { errors: [{ path: 'password', message: 'is required to close the account', code: 'required' }] },
    );
  }
  const { password } = parseJsonBody(event, closeAccountInput);
  const proof = {
    acr: caller.acr,
    authTime: caller.authTime,
    password,
    source: event.requestContext.http.sourceIp,
  };
  const closed = await closeAccount(personId, proof, deps, {
    requestId: event.requestContext?.requestId,
  });
  return json(200, closed satisfies z.output<typeof closedAccountSchema>);
}

/**
 * The person behind a bearer token with scope `entity`: the person of a personal session, or the acting
 * person of an entity session (whose rights are checked as that person's). A machine client's token is
 * refused (403 `person_required`), and so is the token of a platform that is not first-party (403
 * `first_party_only`): consenting to `entity` lets a platform know the enterprise and that the person acts
 * for it, not list the person's enterprises or appoint and withdraw their agents (security review: any
 * platform granted `entity` could appoint an agent, who then signed in as the enterprise).
 */
async function signedInPerson(
  event: HttpEvent,
  deps: Dependencies,
): Promise<PersonAccount & { acr?: string }> {
  const caller = await authenticateBearer(event, 'entity', deps);
  const personId = caller.accountId ? parseAccountId(caller.accountId).personId : undefined;
  const person = personId ? await findPersonById(personId, deps) : undefined;
  if (!person) {
    throw new ForbiddenError('This route needs the access token of a signed-in person', 'person_required');
  }
  // A sign-in from before the account's last takeover or reset acts for nothing (review R47 F3).
  requireSignInNotEnded(person, caller.authTime);
  await requireFirstParty(
    caller.clientId,
    deps,
    'The enterprises a person acts for, and their agents, are managed in a first-party app (the wallet) only',
  );
  return { ...person, acr: caller.acr };
}

/** The registration form's inputs, where a refusal of one may point. */
const registerFields = [
  'idNumber',
  'name',
  'phone',
  'code',
  'password',
  'passwordConfirm',
  'consent',
] as const;
const isFormField = (path: string): path is (typeof registerFields)[number] =>
  (registerFields as readonly string[]).includes(path);

/**
 * `GET /register` shows the form; `POST /register` (urlencoded) registers and shows the outcome. A page
 * of the site like the others: the visitor's language (a `?lang=` choice remembered in the cookie, so
 * the post that follows answers in it too), with the identity pages' headers rather than the site's: a
 * step of signing in, it fetches nothing and runs a script only while its button counts down.
 */
const registerPage = webHandler(
  'home',
  async (event: HttpEvent, { lang, t }: PageContext): Promise<HttpResult> => {
    const page = (
      statusCode: number,
      state: RegisterPageState = {},
      headers: Record<string, string> = {},
    ): HttpResult => ({
      statusCode,
      headers: { ...registerPageHeaders(state), ...headers },
      body: renderRegisterPage(lang, state),
    });
    if (served.is(event, 'GET /register')) return page(200);

    const bytes = bodyBytes(event);
    if (bytes.length > maxBodyBytes) {
      return page(413, { errors: [{ message: t('提交的内容过大。', 'The form data is too large.') }] });
    }
    const mediaType = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
    if (mediaType !== 'application/x-www-form-urlencoded') {
      return page(415, {
        errors: [{ message: t('请通过注册表单提交。', 'Please submit the registration form.') }],
      });
    }
    if (!sameOrigin(event, dependencies().config.issuerUrl)) {
      return page(403, {
        errors: [{ message: t('请从本站注册页面提交。', 'Please submit from this site’s own page.') }],
      });
    }
    // UTF-8 only, strictly (shared/http/form-body.ts): a declared GBK is refused, and a field whose bytes
    // are not UTF-8 is named, the others kept as typed, rather than read as `���` (session 27).
    let decoded;
    try {
      decoded = decodeFormBody(bytes, header(event, 'content-type'));
    } catch (error) {
      if (!(error instanceof UnsupportedMediaTypeError)) throw error;
      return page(415, {
        errors: [
          {
            message: t(
              '表单须以 UTF-8 编码提交，请从本站注册页面提交。',
              'The form must be sent as UTF-8: please submit it from this site’s page.',
            ),
          },
        ],
      });
    }
    const form = new URLSearchParams(decoded.pairs.map(([name, value]) => [name, value]));
    const values = {
      idNumber: (form.get('idNumber') ?? '').slice(0, 64),
      name: (form.get('name') ?? '').slice(0, 200),
      phone: (form.get('phone') ?? '').slice(0, 64),
    };
    const password = (form.get('password') ?? '').slice(0, 1024);
    if (decoded.unreadable.length > 0) {
      return page(400, {
        values,
        errors: decoded.unreadable.map((refused) => ({
          ...(isFormField(refused.path) ? { field: refused.path } : {}),
          message: fieldErrorText(t, refused),
        })),
      });
    }
    if (!form.has('send') && password !== (form.get('passwordConfirm') ?? '')) {
      return page(400, {
        values,
        errors: [
          {
            field: 'passwordConfirm',
            message: t('两次输入的密码不一致。', 'The passwords do not match.'),
          },
        ],
      });
    }
    try {
      const deps = dependencies();
      // An empty phone input is no phone: the field is optional.
      const { phone, ...required } = values;
      // The privacy notice's box: sending a code passes the phone to the carrier, so it is needed for both.
      const given = {
        ...required,
        ...(phone.trim() ? { phone } : {}),
        consent: form.get('consent') === 'yes',
      };
      if (form.has('send')) {
        // 获取验证码: the same answer whether or not the carrier confirms the phone (no oracle).
        const sent = await sendRegistrationCode(given, event.requestContext.http.sourceIp, deps);
        if (sent.status === 'throttled') {
          // Said as the step-up says it: the phone's interval counted down, a day's cap in words only.
          const refused = codeThrottled(t, sent.retryAfterSeconds, sent.limit);
          return page(
            429,
            {
              values,
              errors: [{ message: refused.text }],
              sendLimit: sent.limit,
              ...(refused.resendAfterSeconds === undefined
                ? {}
                : { resendAfterSeconds: refused.resendAfterSeconds }),
            },
            { 'retry-after': String(sent.retryAfterSeconds) },
          );
        }
        return page(200, { values, codeRequested: smsCodePolicy });
      }
      const account = await registerWithPhoneCode(
        { ...given, password },
        (form.get('code') ?? '').slice(0, 16),
        registering(deps),
        {
          requestId: event.requestContext?.requestId,
          source: event.requestContext.http.sourceIp,
        },
      );
      return page(201, { registered: personAccountView(account) });
    } catch (error) {
      if (error instanceof ServiceError && error.expose) {
        const status = httpStatusOf(error);
        logger.info('registration refused', { code: error.code, status });
        return page(
          status,
          { values, errors: registerPageErrors(t, error) },
          error instanceof TooManyRequestsError ? { 'retry-after': String(error.retryAfterSeconds) } : {},
        );
      }
      logger.error('registration failed', error instanceof Error ? error : String(error));
      return page(500, { values, errors: registerPageErrors(t, { code: 'server_error', errors: [] }) });
    }
  },
  served.edge,
);

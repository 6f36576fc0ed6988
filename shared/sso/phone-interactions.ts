import { logger } from '../logger.js';
import type Provider from 'oidc-provider';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { parseAccountId } from '../identifiers/account-id.js';
import { parseIdNumber, type IdNumber } from '../identifiers/id-number.js';
import { personLookupKey } from '../identifiers/lookup-key.js';
import { acrOf, assuranceLevelOf } from '../identity/assurance.js';
import { idNumberEncryptionContext, type PersonAccount } from '../identity/person-account.js';
import { passwordRuleBroken } from '../identity/password-hasher.js';
import { fieldErrorText } from '../web/kit/field-messages.js';
import {
  completePhoneProof,
  requestPhoneProof,
  type PhoneProofDependencies,
} from '../identity/phone-proof.js';
import { normalisePhone, phoneDigest, smsCodePolicy } from '../identity/sms-codes.js';
import type { PageScripts, PageView } from '../web/pages/interaction-html.js';
import {
  checksThrottled,
  codeRequested,
  codeThrottled,
  fieldProblem,
  invalidPhone,
  unreadableField,
  noProvenPhone,
  notProvenPhone,
  resetCodeRequested,
  passwordChangedPage,
  resetPage,
  smsCountdownPolicy,
  stepUpNotProvenPhone,
  stepUpPage,
  wrongOrExpiredCode,
  type PageMessage,
} from '../web/pages/interaction-phone-pages.js';
import { stepSignIn, type SignedIn } from './sign-in-results.js';

type InteractionDetails = Awaited<ReturnType<Provider['interactionDetails']>>;
/** Answers with a page, allowed to run our own script files when it loads one (`scripts: 'self'`). */
type Send = (status: number, body: string, options?: { scripts?: PageScripts }) => void;

/**
 * The CSP a page with `message` needs: our own script when its 获取验证码 button counts down (the
 * countdown fetches nothing), none otherwise.
 */
const scriptsOf = (message: PageMessage | undefined): { scripts?: PageScripts } => ({
  scripts: smsCountdownPolicy(message?.resendAfterSeconds),
});

/** The check of the login prompt that asks for a step-up (`provider.ts`). */
export const stepUpReason = 'acr_too_low';

/**
 * Whether the interaction is the step-up of a signed-in person rather than a sign-in: the level is the
 * only reason asked. Any other reason for the login prompt (`max_age` past, `prompt=login`, an
 * `id_token_hint` of another person) asks for the sign-in itself first, the password page; the step-up
 * follows if the level is still short (review R28 M3: `max_age=0` with `acr_values=loa:3` on a level-2
 * session skipped the password).
 */
export function isStepUp(details: InteractionDetails): boolean {
  const { reasons } = details.prompt;
  return (
    details.prompt.name === 'login' &&
    Boolean(details.session?.accountId) &&
    reasons.includes(stepUpReason) &&
    reasons.every((reason) => reason === stepUpReason)
  );
}

/** The source address, as API Gateway saw it. */
const sourceOf = (ctx: KoaContextWithOIDC) => ctx.req.socket.remoteAddress ?? 'unknown';

/**
 * What a step-up is for beyond the platform's own ask: acting for an entity the person chose below level 3
 * (entity-step-up.ts). `purpose` names it on the page; `accountAfter` is the account the step-up then
 * signs in (the entity's, or the session's own when it is for nothing more).
 */
export interface StepUpContinuation {
  purpose(details: InteractionDetails): Promise<{ entityName: string } | undefined>;
  accountAfter(details: InteractionDetails, accountId: string): Promise<string>;
}

/**
 * The interaction steps that prove level 3 with an SMS code (`identity/phone-proof.ts`): the step-up of a
 * signed-in person (`/interaction/{uid}/stepup`), the password reset (`/interaction/{uid}/reset`), and the
 * way out when the person cannot (`/interaction/{uid}/unmet`: the platform gets
 * `unmet_authentication_requirements`).
 */
/**
 * The result of `/interaction/{uid}/unmet`: the longest a step saves before anyone signed in, for which
 * the authorization request leaves room in its cookie (shared/sso/provider.ts).
 */
export const unmetResult = {
  error: 'unmet_authentication_requirements',
  error_description: 'the End-User could not reach the requested authentication level',
} as const;

export function phoneInteractions(
  provider: Provider,
  proofs: PhoneProofDependencies,
  continuation?: StepUpContinuation,
) {
  // With the step's time and the version of the account the proof saved (review R44): a reset's own
  // sign-in comes after the sign-ins it ended, whatever the clock says.
  const finish = (ctx: KoaContextWithOIDC, signedIn: SignedIn, proven: { version: number }) =>
    provider.interactionFinished(
      ctx.req,
      ctx.res,
      { login: stepSignIn(signedIn, proven, proofs.clock) },
      { mergeWithLastSubmission: false },
    );

  return {
    async unmet(ctx: KoaContextWithOIDC) {
      return provider.interactionFinished(ctx.req, ctx.res, unmetResult, { mergeWithLastSubmission: false });
    },

    async stepUp(
      ctx: KoaContextWithOIDC,
      view: PageView,
      details: InteractionDetails,
      clientName: string,
      form: URLSearchParams | undefined,
      send: Send,
      /** The form's fields that were not UTF-8 text, and what the page says of them. */
      unreadable?: { paths: readonly string[]; text: string },
    ) {
      if (!isStepUp(details) || !details.session) throw new errors.InvalidRequest('not a step-up step');
      const purpose = await continuation?.purpose(details);
      const show = (status: number, phone: string | undefined, message?: PageMessage) =>
        send(
          status,
          stepUpPage(view, {
            uid: details.uid,
            clientName,
            phone,
            message,
            ...(purpose ? { entityName: purpose.entityName } : {}),
          }),
          scriptsOf(message),
        );
      if (!form) return show(200, undefined);
      const typedPhone = (form.get('phone') ?? '').slice(0, 32);
      // Before anything is read, sent or counted: the form again, what was readable kept.
      if (unreadable) return show(400, typedPhone, unreadableField(unreadable.paths, unreadable.text));
      const phone = normalisePhone(typedPhone);
      if (!phone) {
        return show(400, typedPhone, invalidPhone(view.t));
      }
      const { accountId, cookie } = details.session;
      const account = await proofs.accounts.findById(parseAccountId(accountId).personId);
      if (!account) throw new errors.SessionNotFound('the signed-in person is no longer known');
      const subject = { purpose: 'step-up' as const, lookupKey: account.lookupKey, phone };
      // Once a phone proved the account, only it proves it again (review R28 M1): no code to another number.
      if (account.provenPhone && account.provenPhone !== (await phoneDigest(proofs.lookupMac, phone)))
        return show(400, typedPhone, stepUpNotProvenPhone(view.t, account.provenPhoneMasked));
      if (form.has('send')) {
        const idNumber = await accountIdNumber(account, proofs);
        const request = await requestPhoneProof(subject, sourceOf(ctx), proofs, idNumber);
        if (request.status === 'throttled') {
          ctx.set('retry-after', String(request.retryAfterSeconds));
          // Counted down only when the phone's interval refused it (`request.limit`, as the limits found it).
          return show(429, typedPhone, codeThrottled(view.t, request.retryAfterSeconds, request.limit));
        }
        return show(200, typedPhone, codeRequested(view.t, smsCodePolicy));
      }
      const outcome = await completePhoneProof(
        subject,
        form.get('code') ?? '',
        { keepSession: cookie },
        proofs,
      );
      if (!outcome.ok && outcome.reason === 'throttled') {
        ctx.set('retry-after', String(outcome.retryAfterSeconds));
        return show(429, typedPhone, checksThrottled(view.t, outcome.retryAfterSeconds));
      }
      if (!outcome.ok && outcome.reason === 'not_proven_phone') {
        return show(400, typedPhone, stepUpNotProvenPhone(view.t, outcome.provenPhoneMasked));
      }
      if (!outcome.ok) {
        return show(400, typedPhone, wrongOrExpiredCode(view.t));
      }
      // What the session's sign-in did (nothing assumed when it says nothing), and the code.
      const amr = [...new Set([...(details.session.amr ?? []), 'sms'])];
      const signedIn = continuation ? await continuation.accountAfter(details, accountId) : accountId;
      // Never more than the account now stands at (a self-asserted one the registry no longer knows stays
      // below level 3), as a passkey sign-in (review R28 L3).
      return finish(
        ctx,
        { accountId: signedIn, acr: acrOf(assuranceLevelOf(outcome.account)), amr },
        outcome.account,
      );
    },

    async reset(
      ctx: KoaContextWithOIDC,
      view: PageView,
      details: InteractionDetails,
      form: URLSearchParams | undefined,
      send: Send,
      /** The form's fields that were not UTF-8 text, and what the page says of them. */
      unreadable?: { paths: readonly string[]; text: string },
    ) {
      if (details.prompt.name !== 'login') throw new errors.InvalidRequest('not a sign-in step');
      const show = (status: number, fields: { idNumber?: string; phone?: string }, message?: PageMessage) =>
        send(status, resetPage(view, { uid: details.uid, ...fields, message }), scriptsOf(message));
      if (!form) return show(200, {});
      const typedId = (form.get('idNumber') ?? '').trim().slice(0, 32);
      const typedPhone = (form.get('phone') ?? '').slice(0, 32);
      const fields = { idNumber: typedId, phone: typedPhone };
      // Before anything is read, sent or counted: the form again, what was readable kept.
      if (unreadable) return show(400, fields, unreadableField(unreadable.paths, unreadable.text));
      let idNumber;
      try {
        idNumber = parseIdNumber(typedId, new Date(proofs.clock.now()));
      } catch {
        return show(
          400,
          fields,
          fieldProblem(
            'idNumber',
            view.t(
              '请输入正确的身份证号：18 位，末位可为 X（2017 版外国人永久居留证 15 位）。',
              'Enter a valid ID number: 18 characters, the last may be X (15 on a 2017 foreigner’s permanent residence card).',
            ),
          ),
        );
      }
      const phone = normalisePhone(typedPhone);
      if (!phone) {
        return show(400, fields, invalidPhone(view.t));
      }
      const lookupKey = await personLookupKey(proofs.lookupMac, idNumber);
      const subject = { purpose: 'reset' as const, lookupKey, phone };
      if (form.has('send')) {
        const request = await requestPhoneProof(subject, sourceOf(ctx), proofs, idNumber);
        if (request.status === 'throttled') {
          ctx.set('retry-after', String(request.retryAfterSeconds));
          return show(429, fields, codeThrottled(view.t, request.retryAfterSeconds, request.limit));
        }
        // The same answer whatever the account: the sender alone reads it (docs/security.md, "Timing").
        return show(200, fields, resetCodeRequested(view.t, smsCodePolicy));
      }
      const password = form.get('password') ?? '';
      const problem = passwordRuleBroken(password, idNumber);
      if (problem)
        // The rule said from its code in the page's language, not the English message.
        return show(400, fields, fieldProblem('password', fieldErrorText(view.t, problem)));
      const outcome = await completePhoneProof(
        subject,
        form.get('code') ?? '',
        { newPassword: password, keepSession: details.session?.cookie },
        proofs,
      );
      if (!outcome.ok && outcome.reason === 'throttled') {
        ctx.set('retry-after', String(outcome.retryAfterSeconds));
        return show(429, fields, checksThrottled(view.t, outcome.retryAfterSeconds));
      }
      // Only after a right code (completePhoneProof checks the phone after it): a guess learns nothing.
      if (!outcome.ok && outcome.reason === 'not_proven_phone') {
        return show(400, fields, notProvenPhone(view.t));
      }
      if (!outcome.ok && outcome.reason === 'no_proven_phone') {
        return show(400, fields, noProvenPhone(view.t));
      }
      if (!outcome.ok) {
        if (outcome.reason === 'no_account') {
          return show(
            404,
            fields,
            fieldProblem(
              'idNumber',
              view.t(
                '该身份证号尚未注册账号，请先注册。',
                'No account has this ID number yet: register first.',
              ),
            ),
          );
        }
        return show(400, fields, wrongOrExpiredCode(view.t));
      }
      // Its clean-up done but its mark not taken off (the account's write failed twice), the reconciler
      // does it again, ending every sign-in of the mark's second (review R54-1): a sign-in made now would
      // fall there, and be ended. So no sign-in is made; but the password IS changed, which the page says
      // (200, not an error that leaves the person guessing), sending them to sign in with it (in a later
      // second: theirs is spared). The owed clean-up is the reconciler's, as its pointer says.
      if (outcome.account.proofCleanup !== undefined) {
        logger.warn('password reset: the clean-up still owed, the person sent to sign in', {
          accountId: outcome.account.id,
        });
        return send(200, passwordChangedPage(view, { uid: details.uid }));
      }
      const acr = acrOf(assuranceLevelOf(outcome.account));
      return finish(ctx, { accountId: outcome.account.id, acr, amr: ['sms'] }, outcome.account);
    },
  };
}

/** The account's ID number, decrypted for the registries' HTTP services (which cannot read our lookup key). */
async function accountIdNumber(account: PersonAccount, proofs: PhoneProofDependencies): Promise<IdNumber> {
  const clear = await proofs.pii.decrypt(account.idNumberEncrypted, idNumberEncryptionContext(account.id));
  return parseIdNumber(clear, new Date());
}

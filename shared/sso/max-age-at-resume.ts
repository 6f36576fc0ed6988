import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { scanLoginAmr } from './scan-login.js';

/**
 * How much older than a platform's `max_age` the sign-in behind a code may be when the browser resumes
 * (`/authorize/{uid}`) with a login result, in seconds. Not 0: the step's result carries the step's own
 * time (when the password was checked, sign-in-results.ts), and the browser follows the step's 303 to the
 * resume a moment later, so under `max_age=0` every sign-in would be asked for again, for ever. Not the 30 s
 * of clock skew openid-client and oauth4webapi allow (they refuse `auth_time + max_age < now - 30`): the
 * code still travels to the platform and is exchanged there, and the two clocks differ; 10 s leaves 20 s
 * for that. Within it a person goes from the password through the pages that follow (the consent page, the
 * enterprise chooser) without signing in again; past it they type the password again, once: the new
 * sign-in is fresh, and what was answered after the first (the consent, kept in the session) stands.
 */
export const maxAgeToleranceSeconds = 10;

/** The reason of the login prompt when the resume's sign-in is older than `max_age` allows. */
export const maxAgeAtResumeReason = 'max_age_at_resume';

/**
 * The provider's own `max_age` check passes any login result of the interaction, whatever its time
 * (oidc-provider's `prompts/login.js`: `!ctx.oidc.result?.login`): right for a sign-in made just then, not
 * for ours, whose `ts` is the step's (a password checked, then a consent page read for minutes) or the
 * session's own (an enterprise chosen, `sameSignIn` of interactions.ts; a scan-to-login's wallet sign-in).
 * This one judges that result: at the resume the provider has made its `ts` the session's `loginTs`, and a
 * sign-in older than `max_age` plus {@link maxAgeToleranceSeconds} asks for the password again (with
 * `prompt=none` that is `login_required`). A resume without a login result is the provider's check's.
 *
 * The provider turns `max_age=0` into `prompt=login` as it reads the request (its `checkMaxAge`; a pushed
 * request is stored so), so the two cannot be told apart here and `prompt=login` counts as `max_age=0`: a
 * platform that sent `max_age=0` refuses an older `auth_time`, one that sent `prompt=login` loses at most a
 * second password from a person who took over 10 s between the password and the last page. A scan-to-login
 * under `prompt=login` alone is left to its own check (a wallet sign-in made once the request began,
 * scan-login.ts): the wallet's sign-in, typed on the phone before the scan, is seldom 10 s old by then.
 */
export function maxAgeAtResume(): InstanceType<typeof interactionPolicy.Check> {
  return new interactionPolicy.Check(
    maxAgeAtResumeReason,
    'End-User authentication is older than max_age allows',
    'login_required',
    (ctx: KoaContextWithOIDC) => {
      const { oidc } = ctx;
      const login = oidc.result?.login as { amr?: unknown } | undefined;
      if (!login || !oidc.session?.accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const asked = oidc.params?.max_age;
      if (asked !== undefined) return oidc.session.past(Number(asked) + maxAgeToleranceSeconds);
      const amr: unknown[] = Array.isArray(login.amr) ? login.amr : [];
      const scanned = scanLoginAmr.every((one) => amr.includes(one));
      if (!oidc.prompts.has('login') || scanned) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      return oidc.session.past(maxAgeToleranceSeconds);
    },
  );
}

import { invalidRequest, TooManyRequestsError, type FieldError } from '../errors.js';
import { personLookupKey } from '../identifiers/lookup-key.js';
import type { PersonAccount } from './person-account.js';
import { requestPhoneProof, type ProofRequest, type SmsRequestDependencies } from './phone-proof.js';
import {
  refuseChildren,
  registerPerson,
  registrationProblems,
  type RegisterPersonDependencies,
  type RegisterPersonInput,
} from './register-person.js';
import { checkSmsCode, phoneDigest, type SmsCodeDependencies } from './sms-codes.js';

/**
 * Confirming a phone at registration by SMS code (the `/register` page). A phone given on the page is kept
 * only with the code sent to it: the code goes to the phone only if the carrier registry confirms it for
 * the person the population registry knows under the ID number (as for the step-up and the reset), so a
 * right code proves both that the number is the person's (三要素) and that whoever registers holds it,
 * which is level 3 by possession: the account starts `possession-verified`, with the phone's digest as its
 * `provenPhone`, exactly as if it had registered at level 2 and stepped up at once (the carrier is asked,
 * and the code sent, by the `sms-codes` function after the answer: ./sms-jobs.ts). A phone the carrier does
 * not confirm gets no code, so the registration with it is refused (`code`) and never leads to level 3;
 * the person may register without a phone. The JSON `POST /accounts` takes no code: there a phone is kept
 * when the carrier confirms it, and the level stays 2 (see docs/sign-in.md).
 */
export type RegistrationCodeDependencies = RegisterPersonDependencies &
  Omit<SmsCodeDependencies, 'sms'> &
  SmsRequestDependencies;

/** The subject of a registration code: the number's lookup key and the phone it goes to. */
const subjectOf = (lookupKey: string, phone: string) => ({ purpose: 'register' as const, lookupKey, phone });

/**
 * Sends a registration code to `input.phone` (the send limits of every SMS code apply), after checking the
 * ID number, name and phone as registration does (400 naming each field that fails). The answer is the
 * same whether or not a code went out: the form is no oracle for the carrier registry. A send the limits
 * refuse says which limit (`SendLimit`, as the send limits found it).
 */
export async function sendRegistrationCode(
  input: { idNumber: string; name: string; phone?: string; consent?: boolean },
  source: string,
  deps: RegistrationCodeDependencies,
): Promise<ProofRequest> {
  const today = new Date(deps.clock.now());
  // The password is not asked for yet: its rules are checked with the registration itself.
  const checked = registrationProblems({ ...input, password: 'not-checked-here' }, today);
  const errors: FieldError[] = checked.errors.filter((error) => error.path !== 'password');
  if (input.phone === undefined)
    errors.push({ path: 'phone', message: 'is needed to send a code', code: 'phone_required' });
  if (errors.length > 0 || !checked.idNumber || !checked.phone) throw invalidRequest(errors);
  // A child's number is refused before its phone goes to the carrier.
  refuseChildren(checked.idNumber, today);
  const lookupKey = await personLookupKey(deps.lookupMac, checked.idNumber);
  // A refusal says which limit refused it, so that the page counts down only the phone's interval.
  return requestPhoneProof(subjectOf(lookupKey, checked.phone), source, deps, checked.idNumber);
}

/**
 * Registers with a phone confirmed by the code sent to it ({@link sendRegistrationCode}); without a phone,
 * registers as `registerPerson` does. A missing, wrong or spent code is 400 naming `code` (each check
 * counts one of the code's five tries; none is spent while another field is wrong).
 */
export async function registerWithPhoneCode(
  input: RegisterPersonInput,
  code: string,
  deps: RegistrationCodeDependencies,
  context: { requestId?: string; source?: string } = {},
): Promise<PersonAccount> {
  if (input.phone === undefined) return registerPerson(input, deps, context);
  return registerPerson(input, deps, context, async ({ lookupKey, phone }) => {
    if (!code.trim()) {
      throw invalidRequest([
        { path: 'code', message: 'is needed: send a code to the phone first', code: 'code_required' },
      ]);
    }
    const checked = await checkSmsCode(subjectOf(lookupKey, phone), code, deps);
    if (!checked.ok && checked.reason === 'throttled') {
      throw new TooManyRequestsError('too many wrong codes today', checked.retryAfterSeconds);
    }
    if (!checked.ok) {
      throw invalidRequest([
        {
          path: 'code',
          // One answer whether the code was wrong or none was stored: a guess must not tell whether the
          // carrier confirmed the phone (review R18 M1).
          message: 'is wrong or has expired: send a new one',
          code: 'code_wrong_or_expired',
        },
      ]);
    }
    return phoneDigest(deps.lookupMac, phone);
  });
}

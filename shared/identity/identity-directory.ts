import type { SignInsEnded } from './person-account.js';

/** A person as the OpenID side needs to know them. */
export interface DirectoryPerson {
  id: string;
  name: string;
  /** The `acr` of the person's assurance level, e.g. `urn:elicence:loa:3` (`identity/assurance.ts`). */
  acr: string;
  /**
   * The `acr` of the level the account itself has reached, which a possession factor (an SMS code, a
   * passkey, a wallet confirming scan-to-login) brings a sign-in up to; `acr` above is what the password
   * alone reaches.
   */
  accountAcr?: string;
  /** The account's version as read: a sign-in step's result names it (`signInEndedBy`, person-account.ts). */
  version: number;
  /** When a takeover or a reset last ended the account's sign-ins (review R44). */
  signInsEnded?: SignInsEnded;
  /**
   * With a takeover's or a reset's clean-up still owed (`PersonAccount.proofCleanup`), the time before
   * which its passkeys were enrolled: they sign no one in meanwhile (`passkeyEndedBy`, review R47).
   */
  passkeysOwedBefore?: string;
}

export interface DirectoryEntity {
  id: string;
  creditCode: string;
  name: string;
}

export interface ActingRight {
  role: 'legal_representative' | 'agent';
  /** For agents: what they may do (e.g. `licences`); absent for the legal representative. */
  scope?: string[];
  expiresAt?: string;
  /** For agents: the appointment it stands on (`agt_…`), which an entity session is bound to (review R42). */
  agentId?: string;
  /**
   * For the legal representative: the registry's term of the representation, which an entity session is
   * bound to (review R42): a former representative named again is in another term.
   */
  term?: string;
}

/**
 * Where and how the person signs in as an entity: at one of the service's own apps (a first-party client:
 * the wallet, the issuer console) or a platform, where an appointment must cover it (`sign-in`); with a
 * sign-in of `acr`, which must be level 3 (review R22).
 */
export interface SignInAt {
  firstParty: boolean;
  acr: string | undefined;
}

/** A right to sign in as an entity; `stepUp` when the sign-in must first reach level 3 (the step-up page). */
export type EntitySignInRight = ActingRight & { stepUp: boolean };

export type LoginOutcome =
  | { ok: true; person: DirectoryPerson }
  | { ok: false; reason: 'invalid_credentials' | 'throttled'; retryAfterSeconds?: number };

/**
 * What the OpenID provider asks of the accounts domain. Contract: `checkPassword` answers the same,
 * in the same time, for an unknown number, an unknown account and a wrong password; it throttles per
 * account and per source. `signInAs` is asked again at every token issuance and userinfo answer, so a
 * withdrawn agent, or one whose appointment no longer covers signing in there, gets no new token.
 */
export interface IdentityDirectory {
  checkPassword(input: { idNumber: string; password: string; source: string }): Promise<LoginOutcome>;
  findPerson(id: string): Promise<DirectoryPerson | undefined>;
  /**
   * The person's resident ID number in clear, for the `id_number` claim to entitled clients only, with
   * their lookup key (the keyed MAC of the number), which the audit entry of its release names.
   */
  personIdNumber(id: string): Promise<{ idNumber: string; lookupKey: string } | undefined>;
  /**
   * The entities the person may sign in as at `at` now (the entity chooser), with their names, the
   * person's role, and whether the sign-in must step up first.
   */
  entitiesFor(personId: string, at: SignInAt): Promise<Array<DirectoryEntity & EntitySignInRight>>;
  /**
   * Whether the person may sign in as the entity at `at` now (choosing it, and every token of it): not at
   * all, after a step-up (`stepUp`), or as they are.
   */
  signInAs(personId: string, creditCode: string, at: SignInAt): Promise<EntitySignInRight | undefined>;
  /** Whether, and as what, the person may act for the entity now, wherever they signed in. */
  canActFor(personId: string, creditCode: string): Promise<ActingRight | undefined>;
  findEntity(id: string): Promise<DirectoryEntity | undefined>;
  /** The entity's account, made on first use. */
  entityAccount(creditCode: string): Promise<DirectoryEntity | undefined>;
}

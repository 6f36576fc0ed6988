import type { EntityAuthority } from '../identifiers/account-id.js';

/**
 * Ends what a person's sign-ins left behind: the OpenID provider's sessions, grants, authorization codes,
 * refresh and access tokens of the person (personal and acting for an entity), at once. Used when the
 * real owner of an ID number takes its account back (`identity/phone-proof.ts`).
 */
export interface SignInRevocation {
  /**
   * `keepSession`: the id of the provider session to spare (the sign-in under way that proved the owner).
   * `signedInBefore` (epoch seconds): only the sign-ins made before that second, a session by its sign-in
   * (`loginTs`), a grant (with its codes and tokens) by its making (`iat`); one of unknown time ends too.
   * The reconciler finishing a reset's owed clean-up (shared/identity/owed-cleanup.ts) passes the second
   * after the reset's mark (the mark's own second ended too, review R54-1), so that the owner's sign-ins
   * since are spared. `grantsEndedBy` (the mark), with it: a grant is then ended by `grantEndedBy`
   * (person-account.ts, by the millisecond it was made), the rule by which the provider continues none
   * (review R58 L1), not by `signedInBefore`. Under a grant so spared, the codes and tokens of a sign-in
   * before `signedInBefore` end all the same, by the sign-in behind each (`authTime`, an access token's
   * `auth_time`; one of unknown time too): a session the bound ends leaves no token (review R63 F1).
   */
  endAll(
    personId: string,
    options?: { keepSession?: string; signedInBefore?: number; grantsEndedBy?: { at: string } },
  ): Promise<void>;
}

/**
 * The consents a person gave platforms (shares of licences, sign-ins), withdrawn as the person would
 * withdraw each in the wallet (`shared/sharing/authorizations.ts` `withdrawEveryAuthorization`): every
 * platform that registered an events endpoint is told, by a withdrawal notice queued in the same write
 * that deletes the grants, to delete what it copied. Called before every {@link SignInRevocation.endAll}
 * (which would otherwise end the platforms' grants silently): when the account closes, when the real owner
 * takes a squatted account back (what the platforms hold came from an account that is no more, or was
 * never the owner's), and when a password reset ends the account's sign-ins. Answers how many were
 * withdrawn.
 */
export interface PlatformConsents {
  /**
   * `acting`: only those the person gave acting for that entity (`entityId`, its `ent_…` account id)
   * under that authority (`basis`: an appointment's `agentId`, its withdrawal; a representative's term,
   * its end: review R42), not their own, nor those under another appointment, nor those for another
   * entity (review R46: a record written before terms gives its representative the bare `rep` at every
   * such entity, so the basis alone would take the person's grants at their other enterprises too).
   */
  withdrawAll(
    personId: string,
    acting?: EntityAuthority,
    /**
     * `grantedBefore` (epoch seconds): only the consents given before that second (a grant of unknown
     * time too), so that a reset's clean-up finished later by the reconciler spares the owner's since;
     * with `grantsEndedBy` (the reset's mark), only those `grantEndedBy` ends (person-account.ts, by the
     * millisecond each was made: review R58 L1), `grantedBefore` then bounding the platforms' notice only.
     */
    options?: { grantedBefore?: number; grantsEndedBy?: { at: string } },
  ): Promise<number>;
}

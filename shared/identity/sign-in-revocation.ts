/**
 * Ends what a person's sign-ins left behind: the OpenID provider's sessions, grants, authorization codes,
 * refresh and access tokens of the person (personal and acting for an entity), at once. Used when the
 * real owner of an ID number takes its account back (`identity/phone-proof.ts`).
 */
export interface SignInRevocation {
  /** `keepSession`: the id of the provider session to spare (the sign-in under way that proved the owner). */
  endAll(personId: string, options?: { keepSession?: string }): Promise<void>;
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
   * `basis`: only those the person gave acting for an entity under that authority (an appointment's
   * `agentId`: its withdrawal, review R42), not their own nor those under another appointment.
   */
  withdrawAll(personId: string, options?: { basis?: string }): Promise<number>;
}

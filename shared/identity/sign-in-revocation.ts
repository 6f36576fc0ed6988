/**
 * Ends what a person's sign-ins left behind: the OpenID provider's sessions, grants, authorization codes,
 * refresh and access tokens of the person (personal and acting for an entity), at once. Used when the
 * real owner of an ID number takes its account back (`identity/phone-proof.ts`).
 */
export interface SignInRevocation {
  /** `keepSession`: the id of the provider session to spare (the sign-in under way that proved the owner). */
  endAll(personId: string, options?: { keepSession?: string }): Promise<void>;
}

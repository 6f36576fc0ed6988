import type { InteractionResults } from 'oidc-provider';

/**
 * Acting for an entity needs level 3 (shared/identity/entities.ts, `entitySignInLevel`, review R22). A
 * person below it who chooses an entity on the chooser is not refused: the choice finishes the step with
 * this result, and no sign-in yet. The provider then asks for the step-up (its login prompt's level
 * check sees the result: provider.ts), the step-up page says what it is for, and once the SMS code
 * brings the sign-in to level 3 it signs the person in as the entity they chose (interactions.ts). The
 * result lives on the provider's interaction, stored server-side and bound to the browser's cookie, for
 * the one resume and the step-up that follows it.
 */
export const entityStepUpKey = 'entity_step_up';

/** The result that asks for the step-up before acting for the entity `creditCode`. */
export function entityStepUpResult(creditCode: string): InteractionResults {
  return { [entityStepUpKey]: { creditCode } };
}

/**
 * The credit code an interaction's result (or its `lastSubmission`) asks a step-up for, if any.
 *
 * @example
 * ```ts
 * entityAwaitingStepUp(details.lastSubmission); // '91110105MA01DEM078'
 * ```
 */
export function entityAwaitingStepUp(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const pending = (result as Record<string, unknown>)[entityStepUpKey];
  const creditCode =
    typeof pending === 'object' && pending !== null
      ? (pending as { creditCode?: unknown }).creditCode
      : undefined;
  return typeof creditCode === 'string' ? creditCode : undefined;
}

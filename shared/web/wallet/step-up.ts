import { acrOf, assuranceLevels, levelOfAcr, type AssuranceLevel } from '../../identity/assurance.js';
import { FormRefusal, type FieldLabels } from '../kit/form.js';

/** The words for `/wallet/login`'s parameters on a refusal page: the parameter itself, and what it means. */
export const loginLinkLabels: FieldLabels = { acr: (t) => t('认证等级（acr）', 'Assurance level (acr)') };

/**
 * The level a wallet sign-in asks for (`/wallet/login?acr=…`): a level number (`3`) or its `acr` value
 * (`urn:elicence:loa:3`, as `GET /me/licences` names it in `stepUpTo`). Absent asks for none; anything
 * else is refused naming the field, rather than signing in at a level the person did not ask for. The
 * refusal page names it by {@link loginLinkLabels} (the link's parameter as the person sees it in the
 * address bar, with its meaning), since a parameter no page labels is never shown.
 *
 * @example
 * ```ts
 * wantedAcr('3'); // 'urn:elicence:loa:3'
 * wantedAcr(undefined); // undefined
 * ```
 */
export function wantedAcr(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const level = levelOfAcr(value) ?? assuranceLevels.find((candidate) => String(candidate) === value.trim());
  if (!level) {
    const message = 'must be 1, 2, 3 or urn:elicence:loa:1..3';
    throw new FormRefusal(
      `acr ${message}`,
      [{ path: 'acr', message, code: 'invalid_format' }],
      loginLinkLabels,
    );
  }
  return acrOf(level);
}

/**
 * The wallet's own link up to `level` (提升认证等级): signing in again through the provider with
 * `acr_values`, which shows the step-up page even within a live single sign-on session, and coming back
 * to `returnTo` (a wallet path) with the new token.
 *
 * @example
 * ```ts
 * stepUpHref('/wallet/passkeys'); // '/wallet/login?acr=3&returnTo=%2Fwallet%2Fpasskeys'
 * ```
 */
export function stepUpHref(
  returnTo: string,
  options: { level?: AssuranceLevel; entity?: boolean; fresh?: boolean } = {},
) {
  const query = new URLSearchParams({
    ...(options.entity ? { as: 'entity' } : {}),
    acr: String(options.level ?? 3),
    // `fresh=1`: the wallet asks with `max_age=0`, so the provider asks for the password (and the step-up)
    // again even within a live single sign-on session: closing the account needs a sign-in just made.
    ...(options.fresh ? { fresh: '1' } : {}),
    returnTo,
  });
  return `/wallet/login?${query.toString()}`;
}

import * as z from 'zod';

/** A mainland China mobile number in E.164 form: `+86`, then eleven digits starting 13 to 19. */
export type PhoneNumber = string & { readonly __brand: 'PhoneNumber' };

const mobile = /^\+861[3-9]\d{9}$/;

/**
 * The schema of a mobile number as people send it: E.164 with the country code (`+8613912345678`). Spaces
 * and hyphens between digits are tolerated and removed; anything else is refused, naming the form.
 *
 * @example
 * ```ts
 * phoneNumber.parse('+86 139-1234-5678'); // '+8613912345678'
 * ```
 */
export const phoneNumber = z
  .string()
  .max(32)
  .transform((value) => value.trim().replace(/[\s-]/gu, ''))
  .refine((value) => mobile.test(value), {
    message: 'must be a mainland mobile number in E.164 form, such as +8613912345678',
  })
  .transform((value) => value as PhoneNumber);

/** Whether `value` is a mainland mobile number in E.164 form (`+8613912345678`). */
export function isMobileNumber(value: string): boolean {
  return mobile.test(value);
}

/** The display form: the first three and the last four digits, e.g. `139****5678`. */
export function maskPhone(phone: PhoneNumber): string {
  const national = phone.slice(3);
  return `${national.slice(0, 3)}****${national.slice(7)}`;
}

import * as z from 'zod';
import { apiRequest } from '../api-request.js';

/** The licence the demo's 办理业务 example asks for, and the purpose it states (in its own words). */
export const demoBusinessLicenceType = 'driving-licence';
export const demoBusinessPurpose = '演示：办理机动车驾驶证相关业务（核验驾驶证）';

/** The authorization details (RFC 9396) the demo platform asks with. */
export function demoBusinessDetails(): string {
  return JSON.stringify([
    {
      type: 'licence_access',
      licence_types: [demoBusinessLicenceType],
      purpose: demoBusinessPurpose,
      actions: ['read'],
    },
  ]);
}

const sharedLicence = z.object({
  id: z.string(),
  type: z.string(),
  issuer: z.object({ id: z.string(), name: z.string(), creditCode: z.string() }),
  holder: z.object({ kind: z.string(), name: z.string(), masked: z.string() }),
  fields: z.record(z.string(), z.unknown()),
  status: z.string(),
  validFrom: z.string(),
  validUntil: z.string().optional(),
  credential: z.string(),
});
export type SharedLicence = z.output<typeof sharedLicence>;

/** One licence the platform received, and the verdict of verifying its credential. */
export interface CheckedLicence {
  licence: SharedLicence;
  verdict: string;
  checkedAt: string;
}

/** What the example shows: the granted details, and each licence received with its verdict. */
export interface BusinessOutcome {
  authorizationDetails: unknown;
  licences: CheckedLicence[];
}

/**
 * The platform's part of 办理业务, as any platform would do it with the access token it received: read the
 * shared licences (`GET /shared/licences`), then verify each credential (`POST /verify`) rather than
 * trust the answer, and keep the verdict.
 *
 * @example
 * ```ts
 * const outcome = await readAndVerify(config.issuerUrl, signedIn.accessToken, signedIn.authorizationDetails);
 * ```
 */
export async function readAndVerify(
  baseUrl: string,
  accessToken: string,
  authorizationDetails: unknown,
): Promise<BusinessOutcome> {
  const response = await apiRequest(baseUrl, accessToken, 'GET', '/shared/licences');
  if (response.status !== 200) throw new Error(`GET /shared/licences answered ${response.status}`);
  const { items } = z.object({ items: z.array(sharedLicence).max(20) }).parse(await response.json());
  const licences = await Promise.all(
    items.map(async (licence) => {
      const verified = await fetch(new URL('/verify', baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ qr: licence.credential }),
      });
      const answer = z.object({ verdict: z.string(), checkedAt: z.string() }).parse(await verified.json());
      return { licence, verdict: answer.verdict, checkedAt: answer.checkedAt };
    }),
  );
  return { authorizationDetails, licences };
}

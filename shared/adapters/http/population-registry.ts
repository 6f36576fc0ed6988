import * as z from 'zod';
import type { RegistryEndpoint } from '../../config.js';
import { UnavailableError } from '../../errors.js';
import { maskIdNumber, type IdNumber } from '../../identifiers/id-number.js';
import type { PopulationRegistry, RegisteredPerson } from '../../identity/registry.js';
import { logger } from '../../logger.js';
import { assertSafeEndpoint, postToRegistry, RegistryUnanswered } from './registry-request.js';

const answer = z.union([
  z.object({ found: z.literal(true), name: z.string().trim().min(1).max(100) }),
  z.object({ found: z.literal(false) }),
]);

/**
 * {@link PopulationRegistry} over HTTP: a provincial population service (人口库), documented in
 * docs/operating.md. The service is asked by ID number, which our lookup key (an HMAC it cannot compute)
 * does not give: `POST <url>` `{ "idNumber" }` → `200 { "found": true, "name" }` or `200 { "found": false }`.
 *
 * It fails closed: an endpoint that does not answer in time, answers another status or anything else
 * throws {@link UnavailableError} (registration answers 503 and may be retried), never "not found",
 * which would let a registered person's number be registered, unchecked, under another name.
 */
export class HttpPopulationRegistry implements PopulationRegistry {
  constructor(
    private readonly endpoint: RegistryEndpoint,
    private readonly timeoutMs: number,
  ) {
    assertSafeEndpoint(endpoint);
  }

  async findPerson(lookupKey: string, idNumber?: IdNumber): Promise<RegisteredPerson | undefined> {
    if (!idNumber) {
      throw new Error('The population registry over HTTP is asked by ID number: pass it to findPerson');
    }
    let body: unknown;
    try {
      body = await postToRegistry(this.endpoint, { idNumber }, this.timeoutMs);
    } catch (error) {
      throw unavailable(error);
    }
    const parsed = answer.safeParse(body);
    if (!parsed.success) throw unavailable(new RegistryUnanswered('malformed'));
    return parsed.data.found
      ? { lookupKey, name: parsed.data.name, masked: maskIdNumber(idNumber) }
      : undefined;
  }
}

function unavailable(error: unknown): UnavailableError {
  const reason = error instanceof RegistryUnanswered ? error.reason : 'unreachable';
  const answeredWith = error instanceof RegistryUnanswered ? error.answeredWith : undefined;
  logger.warn('population registry unanswered', { reason, answeredWith });
  return new UnavailableError(
    'The population registry did not answer; try again shortly',
    'registry_unavailable',
  );
}

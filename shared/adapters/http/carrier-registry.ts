import * as z from 'zod';
import type { RegistryEndpoint } from '../../config.js';
import type { IdNumber } from '../../identifiers/id-number.js';
import type { CarrierRegistry } from '../../identity/registry.js';
import { logger } from '../../logger.js';
import { assertSafeEndpoint, postToRegistry, RegistryUnanswered } from './registry-request.js';

const answer = z.object({ match: z.boolean() });

/**
 * {@link CarrierRegistry} over HTTP: a carriers' real-name check service (运营商三要素核验), documented in
 * docs/operating.md: `POST <url>` `{ "idNumber", "name", "phone" }` → `200 { "match": true | false }`.
 *
 * It fails closed: only a `200` whose body says `"match": true` confirms. No ID number given (the
 * service cannot be asked by our lookup key), a timeout, another status or a malformed answer is `false`,
 * logged with its reason and never with what was asked.
 */
export class HttpCarrierRegistry implements CarrierRegistry {
  constructor(
    private readonly endpoint: RegistryEndpoint,
    private readonly timeoutMs: number,
  ) {
    assertSafeEndpoint(endpoint);
  }

  async confirms(query: {
    lookupKey: string;
    name: string;
    phone: string;
    idNumber?: IdNumber;
  }): Promise<boolean> {
    if (!query.idNumber) {
      logger.warn('carrier registry not asked: no ID number given');
      return false;
    }
    try {
      const body = await postToRegistry(
        this.endpoint,
        { idNumber: query.idNumber, name: query.name, phone: query.phone },
        this.timeoutMs,
      );
      const parsed = answer.safeParse(body);
      if (!parsed.success) throw new RegistryUnanswered('malformed');
      return parsed.data.match;
    } catch (error) {
      const reason = error instanceof RegistryUnanswered ? error.reason : 'unreachable';
      const answeredWith = error instanceof RegistryUnanswered ? error.answeredWith : undefined;
      logger.warn('carrier registry unanswered: not confirmed', { reason, answeredWith });
      return false;
    }
  }
}

import * as z from 'zod';
import { epochSeconds, type Clock } from '../../clock.js';
import type { CookieSealer } from './sealed-cookie.js';

/** The header in which a page function of ours names the visitor it calls the token endpoint for. */
export const relayedAddressHeader = 'x-elicence-relayed-for';

/** How long a relayed address stays good: one token request, with room for clock differences. */
const lifetimeSeconds = 60;

const relayed = z.strictObject({ address: z.string().max(64) });

/**
 * The visitor's address, vouched for by a page function of ours (the console) when it calls the token
 * endpoint on the visitor's behalf. The token endpoint throttles failed client authentications per
 * (client, address); without this, every console sign-in would count against the console's own address,
 * and anyone who knows an issuer's client id could lock that issuer out of the console by failing from
 * a few addresses. The value is sealed by the page functions' sealer (a key derived from the web key,
 * which only the page functions and the OpenID provider hold) for this client, for a minute: a client
 * cannot forge one, and one made for one client is good for no other.
 *
 * @example
 * ```ts
 * headers[relayedAddressHeader] = await relayed.vouch(event.requestContext.http.sourceIp, clientId);
 * const address = (await relayed.read(header, clientId)) ?? sourceIp;
 * ```
 */
export class RelayedAddresses {
  constructor(
    private readonly sealer: CookieSealer,
    private readonly clock: Clock,
  ) {}

  vouch(address: string, clientId: string): Promise<string> {
    const now = epochSeconds(this.clock);
    return this.sealer.seal(sealedFor(clientId), { address: address.slice(0, 64) }, lifetimeSeconds, now);
  }

  /** The address a valid value vouches for, for this client and now; undefined for anything else. */
  async read(value: string | undefined, clientId: string): Promise<string | undefined> {
    const opened = await this.sealer.open(sealedFor(clientId), value, relayed, epochSeconds(this.clock));
    return opened?.address;
  }
}

const sealedFor = (clientId: string) => `relayed-for\0${clientId}`;

import { createHmac, timingSafeEqual } from 'node:crypto';
import { epochSeconds, type Clock } from '../clock.js';

/** The header in which a page function of ours names the visitor it calls the token endpoint for. */
export const relayedAddressHeader = 'x-elicence-relayed-for';

/** How long a relayed address stays good: one token request, with room for clock differences. */
const lifetimeSeconds = 60;

/**
 * The visitor's address, vouched for by a page function of ours (the console) when it calls the token
 * endpoint on the visitor's behalf. The token endpoint throttles failed client authentications per
 * (client, address); without this, every console sign-in would count against the console's own address,
 * and anyone who knows an issuer's client id could lock that issuer out of the console by failing from
 * a few addresses. The value is `address.clientId-digest.time.mac` under a key derived from the web key,
 * which only the page functions and the OpenID provider hold: a client cannot forge one, and one made
 * for one client and minute is good for no other.
 *
 * @example
 * ```ts
 * headers[relayedAddressHeader] = await relayed.vouch(event.requestContext.http.sourceIp, clientId);
 * const address = (await relayed.read(header, clientId)) ?? sourceIp;
 * ```
 */
export class RelayedAddresses {
  #key: Promise<Uint8Array> | undefined;

  constructor(
    private readonly key: () => Promise<Uint8Array>,
    private readonly clock: Clock,
  ) {}

  async vouch(address: string, clientId: string): Promise<string> {
    const at = epochSeconds(this.clock);
    const encoded = Buffer.from(address.slice(0, 64)).toString('base64url');
    return `${encoded}.${at}.${await this.#mac(encoded, clientId, at)}`;
  }

  /** The address a valid value vouches for, for this client and now; undefined for anything else. */
  async read(value: string | undefined, clientId: string): Promise<string | undefined> {
    if (!value || value.length > 256) return undefined;
    const [encoded = '', atText = '', mac = ''] = value.split('.');
    const at = Number(atText);
    if (!/^[A-Za-z0-9_-]{1,88}$/.test(encoded) || !/^\d{1,12}$/.test(atText)) return undefined;
    if (Math.abs(epochSeconds(this.clock) - at) > lifetimeSeconds) return undefined;
    const expected = Buffer.from(await this.#mac(encoded, clientId, at));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return Buffer.from(encoded, 'base64url').toString();
  }

  async #mac(encoded: string, clientId: string, at: number): Promise<string> {
    this.#key ??= this.key();
    return createHmac('sha256', await this.#key)
      .update(`${encoded}\0${clientId}\0${at}`)
      .digest('base64url');
  }
}

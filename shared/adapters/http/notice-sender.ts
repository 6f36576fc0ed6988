import type { LookupAddress } from 'node:dns';
import { Resolver } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  bareHost,
  isLoopbackAddress,
  isLoopbackHost,
  isUnreachableAddress,
} from '../../clients/public-addresses.js';
import type { NoticeSender } from '../../sharing/withdrawal-notices.js';

/** Refused before any byte is sent: the endpoint is not one the service posts to. */
export class RefusedEndpointError extends Error {
  override readonly name = 'RefusedEndpointError';
}

/**
 * Posts withdrawal notices (RFC 8935 push delivery: `Content-Type: application/secevent+jwt`, a 2xx, 202 by
 * the RFC, is acceptance) over `node:http(s)`, with the SSRF guard of a webhook sender: https only, and
 * every address the host resolves to must be public; the connection goes to the very address checked
 * (the guarded `lookup`), so a name that resolves anew to a private address between the check and the
 * connection (DNS rebinding) gains nothing. Redirects are not followed. `allowLoopback` (the local runtime,
 * whose issuer is http on localhost) lets plain http and loopback addresses through, and nothing else
 * private.
 *
 * @example
 * ```ts
 * await new HttpNoticeSender({ allowLoopback: false, timeoutMs: 5000 }).send('https://platform.example/events', set);
 * ```
 */
export class HttpNoticeSender implements NoticeSender {
  constructor(
    private readonly options: {
      allowLoopback: boolean;
      timeoutMs: number;
      /** The DNS servers to ask (`ip` or `ip:port`); the system's (`/etc/resolv.conf`) by default. */
      dnsServers?: string[];
    },
  ) {}

  /** Whether the service may connect to `address`. */
  private permitted(address: string): boolean {
    return !isUnreachableAddress(address) || (this.options.allowLoopback && isLoopbackAddress(address));
  }

  /**
   * Every address of `hostname`, each checked. Asked of the DNS servers directly (c-ares, with the attempt's
   * timeout), not through `dns.lookup`: getaddrinfo blocks one of libuv's four threads for as long as a
   * platform's DNS server stalls, and the SDK's own look-ups wait behind it (review R12). `localhost` is
   * loopback by definition (RFC 6761) and never asked.
   */
  private async resolve(hostname: string): Promise<LookupAddress[]> {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    let addresses: LookupAddress[];
    if (name === 'localhost' || name.endsWith('.localhost')) {
      addresses = [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ];
    } else {
      const resolver = new Resolver({ timeout: this.options.timeoutMs, tries: 1 });
      if (this.options.dnsServers) resolver.setServers(this.options.dnsServers);
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
      if (v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason as Error;
      addresses = [
        ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
        ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
      ];
    }
    if (addresses.length === 0 || addresses.some((entry) => !this.permitted(entry.address))) {
      throw new RefusedEndpointError(`refused: ${hostname} resolves to a non-public address`);
    }
    return addresses;
  }

  async send(eventsUri: string, token: string): Promise<void> {
    const url = new URL(eventsUri);
    // 1. The scheme: https, or http to this machine in local mode.
    const plainHttpOk = this.options.allowLoopback && url.protocol === 'http:' && isLoopbackHost(url);
    if (url.protocol !== 'https:' && !plainHttpOk) {
      throw new RefusedEndpointError(`refused: ${url.protocol} (https only)`);
    }
    // 2. An address written in the URL is checked here (no lookup is made for it).
    const host = bareHost(url);
    if (isIP(host) !== 0 && !this.permitted(host)) {
      throw new RefusedEndpointError(`refused: ${host} is not a public address`);
    }
    // 3. A name: every address it resolves to is checked, and the connection uses the one checked.
    const started = Date.now();
    const resolved = isIP(host) === 0 ? await this.resolve(host) : undefined;
    const lookup: LookupFunction = (hostname, options, callback) => {
      const addresses = (resolved ?? []).filter(
        (entry) => !options.family || entry.family === options.family,
      );
      if (addresses.length === 0) return callback(new Error(`${hostname} has no address`), '', 4);
      if (options.all) return (callback as (e: null, all: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0]!.address, addresses[0]!.family);
    };
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const body = Buffer.from(token);
    await new Promise<void>((resolve, reject) => {
      const outgoing = request(
        url,
        {
          method: 'POST',
          lookup,
          timeout: this.options.timeoutMs,
          headers: {
            'content-type': 'application/secevent+jwt',
            accept: 'application/json',
            'content-length': body.length,
          },
        },
        (response) => {
          clearTimeout(deadline);
          // Only the status matters: the body is not read, so a platform dripping it holds nothing up.
          response.destroy();
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`the events endpoint answered ${status}`));
        },
      );
      // The socket's `timeout` fires only when it is idle: an endpoint that sends a byte every few seconds
      // never is. The attempt's deadline holds whatever the socket does.
      // One deadline for the attempt, the name's resolution included.
      const deadline = setTimeout(
        () =>
          outgoing.destroy(
            new Error(`the events endpoint did not answer within ${this.options.timeoutMs} ms`),
          ),
        Math.max(1, this.options.timeoutMs - (Date.now() - started)),
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error('the events endpoint timed out')));
      outgoing.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      outgoing.end(body);
    });
  }
}

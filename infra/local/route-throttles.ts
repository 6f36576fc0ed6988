import { routeKey, type Route, type RouteThrottle } from '../../functions/routes.js';

/**
 * A token bucket as API Gateway keeps one per throttled route: `burstLimit` tokens, full at the start,
 * refilled at `rateLimit` a second; a request takes one, or is refused when none is left.
 */
class TokenBucket {
  #tokens: number;
  #at: number;

  constructor(
    private readonly limit: RouteThrottle,
    now: number,
  ) {
    this.#tokens = limit.burstLimit;
    this.#at = now;
  }

  take(now: number): boolean {
    const elapsedSeconds = Math.max(0, now - this.#at) / 1000;
    this.#tokens = Math.min(this.limit.burstLimit, this.#tokens + elapsedSeconds * this.limit.rateLimit);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * The route table's own throttles (`throttle`, functions/routes.ts) in the local gateway, as API Gateway
 * applies them to the stage's route settings: one bucket per throttled route, shared by every caller (not
 * per address: API Gateway's are not either). The local runtime is one process, so its buckets count
 * every request the service gets, as the stage's do. Routes without a throttle of their own are not
 * throttled locally (the stage's limit is not modelled).
 *
 * @example
 * ```ts
 * const throttles = new RouteThrottles(routes);
 * if (!throttles.admit(matched.route)) answer429();
 * ```
 */
export class RouteThrottles {
  readonly #buckets = new Map<string, TokenBucket>();

  /** `now`: milliseconds, for the buckets' refill (tests pass a clock that stands still). */
  constructor(
    routes: readonly Route[],
    private readonly now: () => number = () => performance.now(),
  ) {
    const start = now();
    for (const route of routes) {
      if (route.throttle) this.#buckets.set(routeKey(route), new TokenBucket(route.throttle, start));
    }
  }

  /** Whether a request of `route` may go on: false when its route's bucket is empty (answer 429). */
  admit(route: Route): boolean {
    return this.#buckets.get(routeKey(route))?.take(this.now()) ?? true;
  }
}

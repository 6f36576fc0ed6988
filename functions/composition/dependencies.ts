import { systemClock, type Clock } from '../../shared/clock.js';
import { loadConfig, type Config } from '../../shared/config.js';
import { setServiceLogLevel } from '../../shared/logger.js';
import * as factories from './factories.js';
import type { Buildable, Dependencies, Factories, Needs } from './needs.js';

export type { Buildable, Connections, Dependencies, Factories, Needs } from './needs.js';

/**
 * A container that builds each dependency on first use, once, from its factory. Building makes no network
 * call; clients connect on first use.
 */
export function container<K extends Buildable>(
  config: Config,
  clock: Clock,
  factories: Factories<K>,
): Needs<K> {
  // The alarmed lines' channel stays at INFO whatever the level (shared/logger.ts, SRE review R31 M2).
  setServiceLogLevel(config.logLevel);
  const built = { config, clock } as Needs<K>;
  for (const [name, factory] of Object.entries(factories) as Array<[K, Factories<K>[K]]>) {
    Object.defineProperty(built, name, {
      enumerable: true,
      configurable: true,
      get() {
        const value = factory(built);
        Object.defineProperty(built, name, { value, enumerable: true });
        return value;
      },
    });
  }
  return built;
}

/** Every dependency, each from its factory: for the local runtime's operator, tests and benchmarks. */
export function buildDependencies(config: Config, clock: Clock = systemClock): Dependencies {
  // The variants (the page functions' `secrets`, /verify's `doc`) are no dependencies of their own.
  const {
    pageClientSecrets: _pageVariant,
    registrationSecrets: _registrationVariant,
    coalescingDoc: _coalescing,
    // Makers of a function's own trail (its shards, its actions), no dependency themselves.
    auditOf: _auditOf,
    groupCommitAuditOf: _groupCommitAuditOf,
    ...every
  } = factories;
  return container(config, clock, every);
}

/**
 * What a launcher that runs the handlers itself (the local runtime) gives them: the full set it uses as
 * the operator (bootstrap, seeding, tests), whose configuration and clock every function's own
 * composition is then built from, and a hook run once on each such container before its first use.
 */
export interface Launch {
  operator: Dependencies;
  prepare?(container: Partial<Dependencies>): void;
}

let launch: Launch | undefined;
let fromEnvironment: Dependencies | undefined;

/** Every dependency: the launcher's operator set, else one built from the environment. */
export function dependencies(): Dependencies {
  if (launch) return launch.operator;
  fromEnvironment ??= buildDependencies(loadConfig());
  return fromEnvironment;
}

/**
 * A function's own composition: what its handler uses, built once per container (a cold start) from the
 * environment, and only from `factories`, so that the bundle holds nothing else. Under a launcher, it is
 * built from the launcher's configuration instead, once per launch.
 *
 * @example
 * ```ts
 * const dependencies = composition({ doc, kms, licences, audit, accessTokens });
 * export const handler = apiHandler(async (event) => {
 *   const deps = dependencies();
 * });
 * ```
 */
export function composition<K extends Buildable>(factories: Factories<K>): () => Needs<K> {
  const launched = new WeakMap<Launch, Needs<K>>();
  let own: Needs<K> | undefined;
  return () => {
    if (!launch) {
      own ??= container(loadConfig(), systemClock, factories);
      return own;
    }
    let built = launched.get(launch);
    if (!built) {
      built = container(launch.operator.config, launch.operator.clock, factories);
      launch.prepare?.(built);
      launched.set(launch, built);
    }
    return built;
  };
}

/**
 * Hands the handlers a launcher's configuration (see {@link Launch}); `undefined` forgets it, so that the
 * next use reads the environment again.
 */
export function provideDependencies(provided: Launch | undefined): void {
  launch = provided;
  fromEnvironment = undefined;
}

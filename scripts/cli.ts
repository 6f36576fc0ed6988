import { loadConfig, type Config } from '../shared/config.js';

/** A script's messages on stderr, each prefixed by its name (`backfill-usage-index: …`). */
export const sayer =
  (name: string) =>
  (message: string): void =>
    console.error(`${name}: ${message}`);

/**
 * The start the scripts that reach the tables share: their command line read by `readArgs` (node:util's
 * `parseArgs`; it throws on a usage error) and the configuration loaded from `env` (a configuration the
 * service would refuse, e.g. an audit table named as the service table, throws too; so does a run against
 * AWS without `AWS_REGION`, for the clients take the configuration's region, never the AWS CLI's
 * `AWS_DEFAULT_REGION` or profile region). Either failure is said by `say` and answers `undefined`: the
 * script exits 2, a usage or configuration error.
 *
 * @example
 * ```ts
 * const start = readCommandLine(say, env, () => parseArgs({ args: argv, options: { … } }).values);
 * if (!start) return 2;
 * ```
 */
export function readCommandLine<T>(
  say: (message: string) => void,
  env: NodeJS.ProcessEnv,
  readArgs: () => T,
): { args: T; config: Config } | undefined {
  try {
    const args = readArgs();
    const config = loadConfig(env);
    // Against AWS (no local endpoint), the stack's region must be said: the configuration would otherwise
    // take cn-north-1, whatever AWS_DEFAULT_REGION or the profile the AWS CLI uses names (R49 F3).
    if (!config.regionGiven && !config.dynamodbEndpoint) {
      throw new Error(
        'AWS_REGION: set it to the stack’s region (the scripts read neither AWS_DEFAULT_REGION nor a profile’s region)',
      );
    }
    return { args, config };
  } catch (error) {
    say((error as Error).message);
    return undefined;
  }
}

/**
 * Whether the module at `moduleUrl` (its `import.meta.url`) is the script node was started with, not an
 * import (the tests import `run…` and call it with their own arguments and environment).
 */
export function ranAsScript(moduleUrl: string): boolean {
  const started = process.argv[1];
  return started !== undefined && started !== '' && moduleUrl.endsWith(started.replace(/\\/g, '/'));
}

import type { Config } from '../../config.js';
import type { ListSigner } from '../../licence/list-signer.js';
import { LambdaInvokeClient } from './client.js';
import { LambdaListSigner } from './list-signer.js';

/*
 * The composition root's way in to the Lambda adapters, as `../kms/index.ts` is to KMS's: one connection
 * per container, one builder per port.
 */

/**
 * Lambda as a container's adapters share it: the one invoke client. The local launcher (`infra/`) hands
 * its requests to the Lambda emulator in process and guards it with the function's `invokes` grant.
 */
export type LambdaConnection = LambdaInvokeClient;

/**
 * Connects to the configured Lambda (AWS by region, or the local emulator's endpoint). Makes no network
 * call: the client connects on first use.
 *
 * @example
 * ```ts
 * const lambda = connectLambda(loadConfig());
 * const signer = lambdaListSigner(lambda, config.listSignerFunction);
 * ```
 */
export function connectLambda(config: Pick<Config, 'region' | 'lambdaEndpoint'>): LambdaConnection {
  return new LambdaInvokeClient({ region: config.region, endpoint: config.lambdaEndpoint });
}

/** The list signer, the Lambda function `functionName` (name or ARN). */
export const lambdaListSigner = (lambda: LambdaConnection, functionName: string): ListSigner =>
  new LambdaListSigner(lambda, functionName);

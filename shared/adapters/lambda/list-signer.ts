import { logger } from '../../logger.js';
import {
  listBusy,
  listNotFound,
  listSignerAnswer,
  ListSignerUnavailableError,
  type ListRequest,
  type ListSigner,
} from '../../licence/list-signer.js';
import type { StatusListTokenResult } from '../../licence/status-list-token.js';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * The {@link ListSigner} as a Lambda function (`functions/list-signer.ts`), invoked synchronously. Every
 * way the call can fail (Lambda refusing it, the function failing, an answer of the wrong shape) is
 * {@link ListSignerUnavailableError}; only the signer's own `status_list_not_found` is a not found, and its
 * `status_list_busy` a 503 of a second (`listBusy`).
 *
 * @example
 * ```ts
 * const signer = new LambdaListSigner(createLambdaClient({ region }), 'elicence-list-signer');
 * const { jws, ttl } = await signer.sign({ kind: 'trust-list' });
 * ```
 */
export class LambdaListSigner implements ListSigner {
  constructor(
    private readonly lambda: LambdaClient,
    /** Its name or ARN (`LIST_SIGNER_FUNCTION`). */
    private readonly functionName: string,
  ) {}

  async sign(request: ListRequest): Promise<StatusListTokenResult> {
    let text: string;
    try {
      const result = await this.lambda.send(
        new InvokeCommand({
          FunctionName: this.functionName,
          InvocationType: 'RequestResponse',
          Payload: Buffer.from(JSON.stringify(request)),
        }),
      );
      text = Buffer.from(result.Payload ?? new Uint8Array()).toString('utf8');
      if (result.FunctionError) {
        // Lambda's error document names the error type and message of the signer, none of it secret.
        logger.error('list signer failed', {
          functionError: result.FunctionError,
          answer: text.slice(0, 500),
        });
        throw new ListSignerUnavailableError(`The list signer failed (${result.FunctionError})`);
      }
    } catch (error) {
      if (error instanceof ListSignerUnavailableError) throw error;
      throw new ListSignerUnavailableError('The list signer could not be invoked', { cause: error });
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    const parsed = listSignerAnswer.safeParse(answer);
    if (!parsed.success) throw new ListSignerUnavailableError('The list signer answered an unexpected shape');
    if ('jws' in parsed.data) return parsed.data;
    if (parsed.data.error === 'status_list_not_found') throw listNotFound(request);
    if (parsed.data.error === 'status_list_busy') throw listBusy(request);
    // `invalid_request`: a request of ours it refused, a defect on this side.
    throw new ListSignerUnavailableError(`The list signer refused the request (${parsed.data.error})`);
  }
}

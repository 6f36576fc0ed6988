import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DependencyError } from '../../errors.js';
import type { TencentCredentialSource } from './sms-sender.js';
import type { TencentCredentials } from './tc3-signer.js';

/**
 * The Tencent Cloud API key pair kept in an AWS Secrets Manager secret, as JSON
 * `{ "secretId": "AKID…", "secretKey": "…" }` (the pair together, so that replacing the key is one
 * `put-secret-value` and never an environment change): read on the first send and kept for the
 * container's life; read again after {@link forget} (Tencent refused the pair), and never kept when the
 * read failed. Parallel first sends share one read. The key is never logged nor put in an error.
 *
 * @example
 * ```ts
 * const credentials = new SecretsManagerTencentCredentials(new SecretsManagerClient({}), secretArn);
 * const { secretId } = await credentials.get();
 * ```
 */
export class SecretsManagerTencentCredentials implements TencentCredentialSource {
  #kept: Promise<TencentCredentials> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretArn: string,
  ) {}

  get(): Promise<TencentCredentials> {
    if (!this.#kept) {
      const read = this.#read();
      this.#kept = read;
      read.catch(() => {
        if (this.#kept === read) this.#kept = undefined;
      });
    }
    return this.#kept;
  }

  forget(): void {
    this.#kept = undefined;
  }

  async #read(): Promise<TencentCredentials> {
    const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretArn }));
    let value: unknown;
    try {
      value = JSON.parse(SecretString ?? '');
    } catch {
      value = undefined;
    }
    const { secretId, secretKey } = (value ?? {}) as Partial<Record<string, unknown>>;
    if (typeof secretId !== 'string' || !secretId || typeof secretKey !== 'string' || !secretKey) {
      // The stack creates the secret with a random placeholder: the operator has not put the pair yet.
      throw new DependencyError(
        'The Tencent Cloud SMS secret holds no JSON { "secretId", "secretKey" } (docs/operating.md, "SMS in AWS China regions")',
        'sms_not_sent',
      );
    }
    return { secretId, secretKey };
  }
}

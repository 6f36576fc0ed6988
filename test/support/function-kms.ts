import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { expect } from 'vitest';
import { functionGrants } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import { serviceKeyRoles } from '../../infra/local/bootstrap-keys.js';
import { guardGrants } from '../../infra/local/grant-guard.js';
import { table } from '../../shared/adapters/dynamo/table.js';
import { loadConfig } from '../../shared/config.js';
import { signCompactJws } from '../../shared/crypto/compact-jws.js';
import type { Signer } from '../../shared/crypto/signer.js';
import { emulatorKms } from './http-api.js';
import type { RelyingParty } from './oidc-flows.js';
import type { TestRuntime } from './runtime.js';

/*
 * What a compromised function holds, and what a relying platform does with an ID token it is handed: the
 * security tests of the keys one function may sign with (test/security/18-presentation-key.test.ts,
 * 23-notice-key.test.ts).
 */

/**
 * `functionName`'s KMS client, guarded by its grants as the local runtime guards each function's
 * container (the KMS emulator behind the grant guard that refuses what IAM would). Destroy it after use.
 */
export async function functionKms(runtime: TestRuntime, functionName: FunctionName): Promise<KMSClient> {
  const config = loadConfig({});
  const operator = emulatorKms(runtime);
  const keyRoles = await serviceKeyRoles(operator, config).finally(() => operator.destroy());
  const kms = emulatorKms(runtime);
  guardGrants(
    { kms },
    {
      functionName,
      grants: functionGrants[functionName],
      keyRoles,
      partitionKey: table.partitionKey,
      tables: {
        table: config.tableName,
        auditTable: config.auditTableName,
        batchTable: config.batchTableName,
      },
    },
  );
  return kms;
}

/** An ID token for `victim` at `platform`, as the provider would sign it, signed by `signer`. */
export function idTokenSignedBy(
  runtime: TestRuntime,
  platform: RelyingParty,
  signer: Signer,
  claims: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return signCompactJws(
    { typ: 'JWT' },
    { iss: runtime.baseUrl, aud: platform.clientId, sub: 'victim', iat: now, exp: now + 600, ...claims },
    signer,
  );
}

/** What a relying platform does with an ID token it is handed: jose against the discovered `jwks_uri`. */
export async function relyingPartyAccepts(
  runtime: TestRuntime,
  platform: RelyingParty,
  token: string,
): Promise<boolean> {
  const jwksUri = platform.config.serverMetadata().jwks_uri;
  expect(jwksUri).toBe(`${runtime.baseUrl}/.well-known/jwks.json`);
  return jwtVerify(token, createRemoteJWKSet(new URL(jwksUri!)), {
    issuer: runtime.baseUrl,
    audience: platform.clientId,
    algorithms: ['ES256'],
  }).then(
    () => true,
    () => false,
  );
}

/** `kms` asked to sign a 32-byte digest with `keyId` (ES256's ECDSA_SHA_256), as a compromised function would. */
export function signDigest(kms: KMSClient, keyId: string) {
  return kms.send(
    new SignCommand({
      KeyId: keyId,
      Message: new Uint8Array(32),
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    }),
  );
}

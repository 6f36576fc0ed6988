import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * The AWS SDK's credential chain as bundled into Lambda functions: the environment only, which is where
 * Lambda puts the function role's credentials. Bundling aliases `@aws-sdk/credential-provider-node` to
 * this file (`infra/bundling.ts`), so the chain's other providers (profiles, SSO, web identity, instance
 * metadata and the STS/SSO clients they carry) stay out of every function. Local runs are not bundled and
 * keep the full chain.
 */
export const defaultProvider = (_init?: unknown) => fromEnv();

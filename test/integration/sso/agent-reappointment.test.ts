import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import {
  appointAgent,
  appointClerk,
  startEntityPlatform,
  withdrawClerk,
  type Clerk,
} from '../../support/clerks.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import {
  getWithToken,
  refusal,
  signIn,
  writtenAccessToken,
  type RelyingParty,
} from '../../support/oidc-flows.js';
import type { TestRuntime } from '../../support/runtime.js';
import type { UserAgent } from '../../support/user-agent.js';

/**
 * Review R42 F1: a platform's grant made while an agent acted for the enterprise is bound to that
 * appointment. Withdrawn, the platform’s grant goes with it; appointed again (a new appointment), the old
 * refresh and access tokens stay dead: only a new sign-in, with its consent, gives the platform access.
 */
let runtime: TestRuntime;
let platform: RelyingParty;
let headToken: string;
let agency: string;
let browser: () => UserAgent;

beforeAll(async () => {
  ({ runtime, platform, headToken, agency, browser } = await startEntityPlatform());
});
afterAll(() => runtime?.close());

describe('an agent withdrawn and appointed again (review R42)', () => {
  const person = registryPeople[9]!;
  let agent: Clerk & { agentId: string; accountId: string };
  beforeAll(async () => {
    agent = await appointClerk(runtime, headToken, agency, person, ['licences', 'sign-in']);
  });

  it('does not revive the platform’s tokens from the withdrawn appointment; a new sign-in works', async () => {
    const credentials = { username: agent.idNumber, password: agent.password, entity: agency };
    const options = { scope: 'openid profile entity offline_access', prompt: 'consent' };
    const { claims, tokens } = await signIn(platform, browser(), credentials, options);
    expect(tokens.refresh_token).toBeTruthy();

    // The agent's wallet lists the platform's sign-in as the enterprise; the withdrawal withdraws it.
    const agentWallet = await writtenAccessToken({
      accountId: agent.accountId,
      clientId: walletClientId,
      scope: 'openid entity licences',
    });
    const platformAuthorizations = async () => {
      const listed = await getWithToken(runtime, '/me/authorizations', agentWallet);
      expect(listed.status).toBe(200);
      const { items } = (await listed.json()) as { items: Array<{ client: { id: string } }> };
      return items.filter((item) => item.client.id === platform.clientId).length;
    };
    expect(await platformAuthorizations()).toBe(1);

    await withdrawClerk(runtime, headToken, agent);
    expect(await platformAuthorizations()).toBe(0);
    await expect(
      refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!)),
    ).resolves.toMatchObject({ error: 'invalid_grant', status: 400 });

    await appointAgent(runtime, headToken, agency, person, ['licences', 'sign-in']);

    // The tokens of the withdrawn appointment stay dead: no new sign-in, no consent, no access.
    await expect(
      refusal(client.refreshTokenGrant(platform.config, tokens.refresh_token!)),
    ).resolves.toMatchObject({ error: 'invalid_grant', status: 400 });
    await expect(
      refusal(client.fetchUserInfo(platform.config, tokens.access_token, claims.sub)),
    ).resolves.toMatchObject({
      status: 401,
    });

    // Signing in again under the new appointment works, and the platform sees the same enterprise `sub`.
    const fresh = await signIn(platform, browser(), credentials, options);
    expect(fresh.claims.sub).toBe(claims.sub);
    const info = await client.fetchUserInfo(platform.config, fresh.tokens.access_token, fresh.claims.sub);
    expect(info).toMatchObject({ subject_type: 'legal_person', credit_code: agency });
  });
});

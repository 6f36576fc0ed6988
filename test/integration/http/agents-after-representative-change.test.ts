import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryPeople } from '../../../infra/local/demo-data.js';
import { walletClientId } from '../../../shared/identifiers/client-ids.js';
import { agentsBody } from '../../../shared/web/pages/wallet-agents-page.js';
import { translator } from '../../../shared/web/kit/i18n.js';
import type { WalletAgent } from '../../../shared/web/wallet/agents-api.js';
import { accountIdOf, appointClerk, changeRepresentative } from '../../support/clerks.js';
import { getWithToken, writtenAccessToken } from '../../support/oidc-flows.js';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';

/**
 * Review R42 F2: after the business registry names a new legal representative, the former one's
 * appointments count for nothing; the new representative's list said they were in force (有效). They are
 * `superseded`, and the page offers to withdraw them as it does one in force.
 */
let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

const walletToken = async (accountId: string) =>
  writtenAccessToken({ accountId, clientId: walletClientId, scope: 'openid entity licences' });

describe('the agents a new legal representative finds (review R42 F2)', () => {
  it('lists the former representative’s appointments as superseded, not in force, and offers their withdrawal', async () => {
    const { citizen, entity } = runtime.credentials;
    const oldRep = await walletToken(await accountIdOf(citizen.idNumber, citizen.password));
    const agent = await appointClerk(runtime, oldRep, entity.creditCode, registryPeople[9]!, ['licences']);

    const newRepId = await changeRepresentative(
      runtime,
      entity.creditCode,
      registryPeople[10]!,
      'NewRep-2026!',
    );

    const listed = await getWithToken(
      runtime,
      `/me/entities/${entity.creditCode}/agents`,
      await walletToken(newRepId),
    );
    expect(listed.status).toBe(200);
    const { items } = (await listed.json()) as { items: WalletAgent[] };
    expect(items).toContainEqual(expect.objectContaining({ agentId: agent.agentId, status: 'superseded' }));
    expect(items.filter((item) => item.status === 'active')).toEqual([]);

    // As the wallet's agents page shows that list.
    const page = agentsBody(translator('zh'), {
      entity: { name: entity.name, creditCode: entity.creditCode },
      agents: items,
      defaultExpiry: '2027-12-06',
      latestExpiry: '2029-12-05',
    }).toString();
    expect(page).toContain('由前任法定代表人或在此前任期内委托，已不再有效');
    // Offered for withdrawal: listed withdrawn, whatever grants the agent made under it remain go.
    expect(page).toContain(`/wallet/agents/${agent.agentId}/withdraw`);
  });
});

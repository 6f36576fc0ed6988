import { DynamoSharingGrants } from '../../shared/adapters/dynamo/sharing-grants.js';
import { createDynamoAdapter } from '../../shared/adapters/dynamo/oidc-adapter.js';
import { systemClock } from '../../shared/clock.js';
import { InMemorySharingGrants } from '../support/in-memory-sharing.js';
import { sharingGrantsContract } from './sharing-grants.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

sharingGrantsContract('InMemorySharingGrants', async () => {
  const store = new InMemorySharingGrants();
  return {
    store,
    saveGrant: async (id, grant) => store.saveGrant(id, grant),
    saveToken: async (tokenId, grantId) => store.saveToken(tokenId, grantId),
    tokenExists: async (tokenId) => store.tokenExists(tokenId),
    cleanup: nothingToClean,
  };
});

sharingGrantsContract('DynamoSharingGrants on dynalite (the provider’s own storage)', async () => {
  const { doc, tableName } = await dynamo.newTable();
  const deps = { doc, tableName, clock: systemClock };
  const Adapter = createDynamoAdapter(deps);
  const grants = new Adapter('Grant');
  const tokens = new Adapter('AccessToken');
  const now = () => Math.floor(Date.now() / 1000);
  return {
    store: new DynamoSharingGrants(deps),
    // As the provider saves them: the payload, and the seconds it has left.
    saveGrant: (id, grant) =>
      grants.upsert(
        id,
        { ...grant, jti: id, kind: 'Grant' } as never,
        typeof grant.exp === 'number' ? grant.exp - now() : 600,
      ),
    saveToken: (tokenId, grantId) =>
      tokens.upsert(tokenId, { jti: tokenId, kind: 'AccessToken', grantId, exp: now() + 600 } as never, 600),
    tokenExists: async (tokenId) => (await tokens.find(tokenId)) !== undefined,
    cleanup: nothingToClean,
  };
});

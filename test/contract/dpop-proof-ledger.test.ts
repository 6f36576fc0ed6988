import { DynamoDpopProofLedger } from '../../shared/adapters/dynamo/dpop-proof-ledger.js';
import { InMemoryDpopProofLedger } from '../support/in-memory.js';
import { dpopProofLedgerContract } from './dpop-proof-ledger.contract.js';
import { nothingToClean, useDynamo } from './subject.js';

const dynamo = useDynamo();

dpopProofLedgerContract('InMemoryDpopProofLedger', async () => ({
  ledger: new InMemoryDpopProofLedger(),
  cleanup: nothingToClean,
}));

dpopProofLedgerContract('DynamoDpopProofLedger on dynalite', async () => {
  const { doc, tableName } = await dynamo.newTable();
  return { ledger: new DynamoDpopProofLedger(doc, tableName), cleanup: nothingToClean };
});

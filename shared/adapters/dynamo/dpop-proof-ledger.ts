import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DpopProofLedger } from '../../http/dpop.js';
import { writeIf } from './conditional.js';
import { keys } from './keys.js';

/**
 * {@link DpopProofLedger} in the service's table: one item per accepted proof, under its id
 * (`dpop-proof#<sha256>`, the id already a digest: the table holds no proof), carrying the TTL attribute.
 * Marking is one conditional put: absent, or present but past its `expiresAt` (DynamoDB deletes expired
 * items late, and the local runtime never), so of two requests with one proof only the first writes.
 *
 * @example
 * ```ts
 * const ledger = new DynamoDpopProofLedger(doc, 'elicence');
 * if (!(await ledger.markUsed(proofId, iat + 61, now))) refuse();
 * ```
 */
export class DynamoDpopProofLedger implements DpopProofLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  markUsed(proofId: string, expiresAt: number, nowSeconds: number): Promise<boolean> {
    return writeIf(
      this.doc,
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.dpopProof(proofId), expiresAt },
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
        ExpressionAttributeValues: { ':now': nowSeconds },
      }),
    );
  }
}

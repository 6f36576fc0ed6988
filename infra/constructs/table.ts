import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ItemAction, TableGrant } from '../../functions/grants.js';
import { table, type IndexName, type TableDeclaration } from '../../shared/adapters/dynamo/table.js';

/**
 * What DynamoDB needs from KMS when it encrypts or decrypts with the table key on a caller's behalf (the
 * set CDK's own table grants use), usable only through DynamoDB.
 */
const tableKeyActions = [
  'kms:Decrypt',
  'kms:DescribeKey',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'kms:ReEncrypt*',
];

const string = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

/**
 * A table built from `shared/adapters/dynamo/table.ts` (keys, indexes and TTL attribute are read from
 * there, never restated): the service table, and the audit table and the batch table beside it. On-demand,
 * point-in-time recovery, deletion protection, encrypted with the customer-managed key given; a stream of
 * new images only when asked (`stream`), for the table whose stream has a reader. Key attributes are strings and indexes project all attributes, as the local
 * bootstrap (`shared/adapters/dynamo/create-table.ts`) creates them.
 *
 * `Table` rather than `TableV2` so that cdk-nag's point-in-time-recovery rule can see it.
 */
export class ServiceTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: {
      encryptionKey: kms.IKey;
      /**
       * Streams new images: the audit table's feeds supervision-events, the batch table's the batch pipe.
       * A stream can only be granted whole, so the service table (sessions, tokens, accounts) has none.
       */
      stream?: boolean;
      /** Keys and indexes: the table's by default; the audit table's adds its own index (gsi3). */
      declaration?: TableDeclaration;
    },
  ) {
    super(scope, id);
    const declaration = props.declaration ?? table;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(declaration.partitionKey),
      sortKey: string(declaration.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: declaration.ttlAttribute,
      ...(props.stream && { stream: dynamodb.StreamViewType.NEW_IMAGE }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of declaration.globalSecondaryIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /**
   * Grants exactly `access` (plus the table key, through DynamoDB only) to `role`: each item action on
   * the partition keys it names (`dynamodb:LeadingKeys`, every key of a request must match), `Query` on
   * the indexes named (a restricted one for its attribute names only: `dynamodb:Attributes`,
   * `dynamodb:Select`).
   */
  grant(role: iam.IRole, access: TableGrant): void {
    for (const [action, keys] of Object.entries(access.items) as Array<[ItemAction, readonly string[]]>) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: [`dynamodb:${action}`],
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } },
        }),
      );
    }
    const index = (name: IndexName) => `${this.table.tableArn}/index/${name}`;
    const whole = (access.queries ?? []).filter((query) => typeof query === 'string');
    if (whole.length > 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:Query'], resources: whole.map(index) }),
      );
    }
    for (const query of access.queries ?? []) {
      if (typeof query === 'string') continue;
      // Some attribute names only (AWS's "allows access to specific attributes" policy): every name the
      // request names must be listed, and it must ask for specific attributes. `StringEquals`, not AWS's
      // `StringEqualsIfExists` (whose statement also covers item actions, which have no `Select`): a
      // query that leaves `Select` out would read what the index projects, so it is refused.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [index(query.index)],
          conditions: {
            'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...query.attributes] },
            StringEquals: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
          },
        }),
      );
    }
    if (access.partitionQueries?.length) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: [this.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...access.partitionQueries] } },
        }),
      );
    }
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: tableKeyActions,
        resources: [this.props.encryptionKey.keyArn],
        conditions: { StringLike: { 'kms:ViaService': `dynamodb.*.${Aws.URL_SUFFIX}` } },
      }),
    );
    for (const action of ['kms:GenerateDataKey*', 'kms:ReEncrypt*']) {
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: `${action} on the table key only, and only through DynamoDB (kms:ViaService): DynamoDB encrypts with a customer-managed key on the caller's behalf.`,
      });
    }
  }
}

import { Aws, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { table as declaration, type IndexName } from '../../shared/storage/table.js';

/** The item-level DynamoDB actions a function may be granted (the document client's commands). */
export type ItemAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:BatchWriteItem';

export interface TableAccess {
  /** Actions on the table's items. */
  items: ItemAction[];
  /** Indexes the function queries; `Query` is granted on these indexes only, never on the base table. */
  queries?: IndexName[];
}

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
 * The single table, built from `shared/storage/table.ts` (keys, indexes and TTL attribute are read from
 * there, never restated): on-demand, point-in-time recovery, deletion protection, encrypted with the
 * customer-managed key given. Key attributes are strings and indexes project all attributes, as the local
 * bootstrap (`shared/storage/create-table.ts`) creates them.
 *
 * `Table` rather than `TableV2` so that cdk-nag's point-in-time-recovery rule can see it.
 */
export class ServiceTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: { encryptionKey: kms.IKey },
  ) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: string(declaration.partitionKey),
      sortKey: string(declaration.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      timeToLiveAttribute: declaration.ttlAttribute,
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

  /** Grants exactly `access` (plus the table key, through DynamoDB only) to `role`. */
  grant(role: iam.IRole, access: TableAccess): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: access.items, resources: [this.table.tableArn] }),
    );
    if (access.queries?.length) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:Query'],
          resources: access.queries.map((name) => `${this.table.tableArn}/index/${name}`),
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

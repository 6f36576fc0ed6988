import type { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import {
  indexOf,
  invokeQualifier,
  kmsActions,
  type FunctionGrants,
  type ItemAction,
  type KeyRole,
  type TableGrant,
} from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import { functionTarget } from './function-target.js';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { SmsSender } from '../../shared/identity/sms-sender.js';
import { batchItemsContext } from '../../shared/licence/batch-store.js';
import { smsJobContext } from '../../shared/identity/sms-jobs.js';
import { idNumberEncryptionContext, phoneEncryptionContext } from '../../shared/identity/person-account.js';

/**
 * What IAM answers when a role lacks a permission, as the SDK would surface it: a client fault the service
 * code does not expect, so the request fails (a 500) and the test that made it fails with this message.
 */
export class LocalAccessDenied extends Error {
  override readonly name = 'AccessDeniedException';
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 400 };
}

/** IAM's `StringLike`: `*` is any run of characters, `?` any one; everything else is literal. */
export function stringLike(pattern: string, value: string): boolean {
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    compiled = new RegExp(`^${stringLikeSource(pattern)}$`, 's');
    compiledPatterns.set(pattern, compiled);
  }
  return compiled.test(value);
}

/**
 * Each grant pattern compiled once: the guard checks every DynamoDB call, and compiling per call was the
 * local runtime's own cost in `npm run bench` (issue 16). The patterns are the grants', a fixed set.
 */
const compiledPatterns = new Map<string, RegExp>();

const batchItemsPurpose = batchItemsContext({ batchId: '', requestHash: '', n: 0 }).purpose;
const smsJobPurpose = smsJobContext('').purpose;
/**
 * The encryption context keys each use of the PII key must name, as its key policy's `Null` conditions
 * require (infra/constructs/keys.ts): an account for an ID number or phone, a batch and a chunk for batch
 * items, a job for an SMS job.
 */
const requiredContext: Partial<Record<KeyRole, string[]>> = {
  pii: ['account'],
  batchItems: ['batch', 'chunk'],
  smsJobs: ['job'],
};
/**
 * The purposes the PII key's plain use allows (its `StringEquals` on `purpose`): an ID number or a phone.
 * Any other purpose (or none) is not one of the key's uses, and AWS refuses it; so does the guard.
 */
const piiPurposes: readonly string[] = [
  idNumberEncryptionContext('').purpose!,
  phoneEncryptionContext('').purpose!,
];

/** IAM's `StringLike` against any of `patterns`: one expression per list (the grants' lists are fixed). */
function anyLike(patterns: readonly string[], value: string): boolean {
  if (patterns.length === 0) return false;
  let compiled = compiledLists.get(patterns);
  if (!compiled) {
    const sources = patterns.map((pattern) => stringLikeSource(pattern));
    compiled = new RegExp(`^(?:${sources.join('|')})$`, 's');
    compiledLists.set(patterns, compiled);
  }
  return compiled.test(value);
}
const compiledLists = new WeakMap<readonly string[], RegExp>();

function stringLikeSource(pattern: string): string {
  return pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
}

type Item = Record<string, unknown>;

/** An item's or key's partition-key value, native or marshalled. */
function partitionValue(item: unknown, partitionKey: string): string {
  const raw = (item as Item | undefined)?.[partitionKey];
  return typeof raw === 'string' ? raw : String((raw as { S?: string } | undefined)?.S);
}

/** The partition-key values a request names (`dynamodb:LeadingKeys`), native or marshalled. */
function leadingKeys(action: string, input: Item, partitionKey: string): string[] {
  if (action === 'BatchWriteItem') {
    const writes = Object.values(input.RequestItems as Record<string, Item[]>).flat();
    return writes.map((write) =>
      partitionValue(
        (write.PutRequest as Item | undefined)?.Item ?? (write.DeleteRequest as Item | undefined)?.Key,
        partitionKey,
      ),
    );
  }
  if (action === 'BatchGetItem') {
    const reads = Object.values(input.RequestItems as Record<string, { Keys?: Item[] }>);
    return reads.flatMap((read) => (read.Keys ?? []).map((key) => partitionValue(key, partitionKey)));
  }
  return [partitionValue(input.Key ?? input.Item, partitionKey)];
}

/** The partition key a base-table query names (`pk = :value` in its key condition). */
function queriedPartition(input: Item): string | undefined {
  const name = /(?:^|\s|\()pk\s*=\s*(:\w+)/.exec(String(input.KeyConditionExpression ?? ''))?.[1];
  const value = name ? (input.ExpressionAttributeValues as Item | undefined)?.[name] : undefined;
  if (typeof value === 'string') return value;
  return (value as { S?: string } | undefined)?.S;
}

/** Words of DynamoDB's expression grammar that name no attribute. */
const expressionWords = new Set([
  'and',
  'or',
  'not',
  'between',
  'in',
  'attribute_exists',
  'attribute_not_exists',
  'attribute_type',
  'begins_with',
  'contains',
  'size',
]);

/**
 * The top-level attribute names a query names (`dynamodb:Attributes`): in its projection, key condition
 * and filter, placeholders resolved (`#n` through `ExpressionAttributeNames`; values `:v` name none). A
 * document path counts as its first element (`a.b[0]` is `a`), as IAM's key holds top-level names.
 */
function requestedAttributes(input: Item): string[] {
  const names = (input.ExpressionAttributeNames as Record<string, string> | undefined) ?? {};
  const found = new Set<string>();
  for (const expression of [
    input.ProjectionExpression,
    input.KeyConditionExpression,
    input.FilterExpression,
  ]) {
    if (typeof expression !== 'string') continue;
    // A path's first element: `#name` or a bare word, not after `.` (a nested member) nor a value `:v`.
    for (const match of expression.matchAll(/(?<![.:#\w])(#?[A-Za-z_][\w]*)/g)) {
      const token = match[1]!;
      if (token.startsWith('#')) found.add(names[token] ?? token);
      else if (!expressionWords.has(token.toLowerCase())) found.add(token);
    }
  }
  for (const name of (input.AttributesToGet as string[] | undefined) ?? []) found.add(name);
  return [...found];
}

/** DynamoDB's pre-expression parameters that name attributes: conditions, filters and projections. */
const legacyParameters = [
  'KeyConditions',
  'QueryFilter',
  'ScanFilter',
  'ConditionalOperator',
  'AttributesToGet',
] as const;

/**
 * Why a query of a restricted index is refused (`dynamodb:Attributes` with `dynamodb:Select`, as
 * `infra/constructs/table.ts` grants it), or `undefined` when every name it names is allowed and it asks
 * for specific attributes (`Select: SPECIFIC_ATTRIBUTES` with a projection: without one it would read
 * every attribute the index projects).
 */
function attributeRefusal(index: string, allowed: readonly string[], input: Item): string | undefined {
  // The legacy parameters name attributes outside the expressions read here (a `QueryFilter` on
  // `credential` would tell a caller, item by item, what the attribute holds): refused whole rather than
  // parsed, as no function of the service sends them.
  const legacy = legacyParameters.filter((name) => input[name] !== undefined);
  if (legacy.length > 0) {
    return `dynamodb:Query on index ${index} with legacy parameter ${legacy.join(', ')} (granted for some attributes only)`;
  }
  if (input.Select !== 'SPECIFIC_ATTRIBUTES' || typeof input.ProjectionExpression !== 'string') {
    return `dynamodb:Query on index ${index} without Select SPECIFIC_ATTRIBUTES and a ProjectionExpression (granted for some attributes only)`;
  }
  const refused = requestedAttributes(input).filter((name) => !allowed.includes(name));
  return refused.length === 0
    ? undefined
    : `dynamodb:Query on index ${index} naming attribute ${refused.join(', ')} (dynamodb:Attributes)`;
}

/** A transaction's operations and the actions IAM checks them as. */
const transactionActions: ReadonlyArray<readonly [string, ItemAction]> = [
  ['Put', 'PutItem'],
  ['Update', 'UpdateItem'],
  ['Delete', 'DeleteItem'],
  ['ConditionCheck', 'ConditionCheckItem'],
];

/**
 * The guarded function's tables by name: the service table, the audit table and the batch table, each
 * checked against its own grant (`table`, `auditTable`, `batchTable`); a request naming any other table is
 * refused.
 */
export interface GuardedTables {
  readonly table: string;
  readonly auditTable: string;
  readonly batchTable: string;
}

/** The grant covering `tableName`, and how a refusal names the table (the service table's unnamed). */
function grantOn(
  grants: FunctionGrants,
  tables: GuardedTables,
  tableName: unknown,
): { grant: TableGrant | undefined; where: string } | undefined {
  if (tableName === tables.table) return { grant: grants.table, where: '' };
  if (tableName === tables.auditTable) return { grant: grants.auditTable, where: ' in the audit table' };
  if (tableName === tables.batchTable) return { grant: grants.batchTable, where: ' in the batch table' };
  return undefined;
}

/** Why a request on one table is refused under its grant, or `undefined` when IAM would allow it. */
function tableRefusal(
  grant: TableGrant | undefined,
  action: string,
  input: Item,
  partitionKey: string,
): string | undefined {
  if (!grant) return `dynamodb:${action}: no table access`;
  if (action === 'Query') {
    const index = input.IndexName as string | undefined;
    if (index === undefined) {
      const key = queriedPartition(input);
      return key !== undefined && grant.partitionQueries && anyLike(grant.partitionQueries, key)
        ? undefined
        : `dynamodb:Query on the base table, partition key ${String(key)}`;
    }
    const granted = grant.queries?.find((query) => indexOf(query) === index);
    if (granted === undefined) return `dynamodb:Query on index ${index}`;
    return typeof granted === 'string' ? undefined : attributeRefusal(index, granted.attributes, input);
  }
  const patterns = grant.items[action as ItemAction];
  if (!patterns) return `dynamodb:${action}`;
  const refused = leadingKeys(action, input, partitionKey).find((key) => !anyLike(patterns, key));
  return refused === undefined ? undefined : `dynamodb:${action} on partition key ${refused}`;
}

/**
 * Why a DynamoDB request is refused under `grants`, or `undefined` when IAM would allow it. Each table
 * a request names is checked against its own grant: a batch's requests per table, a transaction's
 * operations one by one.
 */
export function dynamoRefusal(
  grants: FunctionGrants,
  action: string,
  input: Item,
  partitionKey: string,
  tables: GuardedTables,
): string | undefined {
  if (action === 'TransactWriteItems') {
    // IAM checks each operation as the single-item action it stands for, on its own key and table.
    for (const operation of (input.TransactItems as Item[] | undefined) ?? []) {
      for (const [kind, itemAction] of transactionActions) {
        const request = operation[kind] as Item | undefined;
        if (!request) continue;
        const refused = dynamoRefusal(grants, itemAction, request, partitionKey, tables);
        if (refused) return `${refused} (in a TransactWriteItems)`;
      }
    }
    return undefined;
  }
  if (action === 'BatchWriteItem' || action === 'BatchGetItem') {
    for (const [tableName, requests] of Object.entries((input.RequestItems as Item | undefined) ?? {})) {
      const on = grantOn(grants, tables, tableName);
      if (!on) return `dynamodb:${action} on table ${tableName}`;
      const refused = tableRefusal(
        on.grant,
        action,
        { RequestItems: { [tableName]: requests } },
        partitionKey,
      );
      if (refused) return `${refused}${on.where}`;
    }
    return undefined;
  }
  const on = grantOn(grants, tables, input.TableName);
  if (!on) return `dynamodb:${action} on table ${String(input.TableName)}`;
  const refused = tableRefusal(on.grant, action, input, partitionKey);
  return refused && `${refused}${on.where}`;
}

/**
 * Why reading the stream of `tableName` is refused to a function under `grants` (its event source mapping
 * reads with the function's role), or `undefined` when allowed: only the audit table's stream, and only
 * with the `auditStream` grant. The batch table's stream is the batch pipe's (its own role, no function's)
 * and the service table has none. The local stream driver asks before it delivers anything.
 */
export function streamRefusal(
  grants: FunctionGrants,
  tableName: string,
  tables: GuardedTables,
): string | undefined {
  if (tableName === tables.auditTable && grants.auditStream) return undefined;
  const table =
    tableName === tables.table
      ? 'the service table'
      : tableName === tables.auditTable
        ? 'the audit table'
        : tableName === tables.batchTable
          ? 'the batch table'
          : `table ${tableName}`;
  return `dynamodb:GetRecords on the stream of ${table}`;
}

/** Why a KMS request on a key of `role` is refused under `grants`, or `undefined` when it is allowed. */
export function kmsRefusal(grants: FunctionGrants, action: string, role: KeyRole): string | undefined {
  let byRole = kmsActionsOf.get(grants);
  if (!byRole) {
    byRole = kmsActions(grants);
    kmsActionsOf.set(grants, byRole);
  }
  const allowed = byRole[role] ?? [];
  return allowed.includes(`kms:${action}`) ? undefined : `kms:${action} on the ${role} key`;
}
/**
 * Each function's KMS actions by key role, derived once per grants object rather than on every call (the
 * grants are the fixed declarations of `functions/grants.ts`; a test's own grants get their own entry).
 */
const kmsActionsOf = new WeakMap<FunctionGrants, ReturnType<typeof kmsActions>>();

/** `GetItemCommand` → `GetItem`, once per command name. */
function actionOf(commandName: string): string {
  let action = actions.get(commandName);
  if (action === undefined) {
    action = commandName.replace(/Command$/, '');
    actions.set(commandName, action);
  }
  return action;
}
const actions = new Map<string, string>();

function guard<Input extends object, Output extends object>(
  functionName: FunctionName,
  refusal: (action: string, input: Item) => string | undefined,
): InitializeMiddleware<Input, Output> {
  return (next, context) => async (args) => {
    const refused = refusal(actionOf(String(context.commandName)), args.input as Item);
    if (refused) {
      throw new LocalAccessDenied(
        `Function ${functionName} is not granted ${refused} (functions/grants.ts): IAM would refuse this in AWS`,
      );
    }
    return next(args);
  };
}

/**
 * Makes a function's clients refuse what IAM would refuse its role in AWS: every DynamoDB and KMS call is
 * checked against the function's grants (`functions/grants.ts`), the declaration the CDK stack turns
 * into the role's policies. The local runtime gives each function a container of its own with clients
 * so guarded; the operator's (bootstrap, the demo seed, tests arranging data) are not.
 *
 * dynalite and the KMS emulator ignore IAM, so this is what tests the least-privilege policies here: a
 * function whose code comes to need a key prefix, an index or a key it was not granted fails its tests
 * with the missing grant named, instead of failing in AWS with an `AccessDeniedException`. A container
 * without a DynamoDB or KMS client (a function that composed none) is left as it is.
 *
 * Lambda invocations (the list signer) are checked against `invokes` before they are sent, and only
 * through the target's live alias (`invokeQualifier`), as IAM grants them.
 *
 * Text messages locally go to the outbox file, through no SDK client: a container that composed an SMS
 * sender without the `sms` grant (`sns:Publish` in AWS) gets one that refuses every message instead.
 *
 * `keyRoles` names the service's own keys by every id a call may use (alias, key id, ARN); any other
 * key is an issuer's.
 *
 * @example
 * ```ts
 * guardGrants(container, {
 *   functionName: 'verify',
 *   grants: functionGrants.verify,
 *   keyRoles: await serviceKeyRoles(kms, config),
 *   partitionKey: table.partitionKey,
 *   tables: { table: config.tableName, auditTable: config.auditTableName, batchTable: config.batchTableName },
 * });
 * ```
 */
export function guardGrants(
  clients: { doc?: DynamoDBDocumentClient; kms?: KMSClient; lambda?: LambdaClient; sms?: SmsSender },
  options: {
    functionName: FunctionName;
    grants: FunctionGrants;
    keyRoles: ReadonlyMap<string, KeyRole>;
    partitionKey: string;
    tables: GuardedTables;
  },
): void {
  const { functionName, grants, keyRoles, partitionKey, tables } = options;
  const step = { step: 'initialize', priority: 'low', name: 'localGrantGuard' } as const;
  clients.doc?.middlewareStack.add(
    guard(functionName, (action, input) => dynamoRefusal(grants, action, input, partitionKey, tables)),
    step,
  );
  clients.kms?.middlewareStack.add(
    guard(functionName, (action, input) => {
      const keyId = (input.KeyId ?? input.TargetKeyId) as string | undefined;
      const role = (keyId && keyRoles.get(keyId)) || 'issuer';
      // The PII key serves three uses, told apart by the encryption context as its key policy does: a
      // purpose, and the keys that use's statement requires present (its `Null` conditions).
      const context = input.EncryptionContext as Record<string, string> | undefined;
      const purpose = role === 'pii' ? context?.purpose : undefined;
      const use = purpose === batchItemsPurpose ? 'batchItems' : purpose === smsJobPurpose ? 'smsJobs' : role;
      if (use === 'pii' && !piiPurposes.includes(purpose ?? '')) {
        return `kms:${action} on the pii key with purpose ${purpose === undefined ? '(none)' : `'${purpose}'`} in its encryption context (the key policy allows ${piiPurposes.join(', ')})`;
      }
      const missing = requiredContext[use]?.filter((key) => context?.[key] === undefined) ?? [];
      if (missing.length > 0)
        return `kms:${action} on the ${use} key without ${missing.join(', ')} in its encryption context`;
      return kmsRefusal(grants, action, use);
    }),
    step,
  );
  clients.lambda?.middlewareStack.add(
    guard(functionName, (action, input) => {
      // IAM grants the live alias alone (`<arn>:live`): `$LATEST` and every other qualifier are refused.
      const { name, qualifier } = functionTarget(String(input.FunctionName), input.Qualifier as string);
      if (action !== 'Invoke' || !grants.invokes?.some((granted) => granted === name)) {
        return `lambda:InvokeFunction on function ${name}`;
      }
      return qualifier === invokeQualifier
        ? undefined
        : `lambda:InvokeFunction on function ${name} as ${qualifier} (only its ${invokeQualifier} alias is granted)`;
    }),
    step,
  );
  if ('sms' in clients && !grants.sms) {
    // Replaces the container's (lazy) sender without building it.
    Object.defineProperty(clients, 'sms', {
      enumerable: true,
      value: {
        send: () =>
          Promise.reject(
            new LocalAccessDenied(
              `Function ${functionName} is not granted sns:Publish (sms in functions/grants.ts): IAM would refuse this in AWS`,
            ),
          ),
      } satisfies SmsSender,
    });
  }
}

import type { KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { kmsActions, type FunctionGrants, type ItemAction, type KeyRole } from '../../functions/grants.js';
import type { FunctionName } from '../../functions/routes.js';
import type { SmsSender } from '../../shared/identity/sms-sender.js';
import { batchItemsContext } from '../../shared/licence/batch-store.js';

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

/** The partition-key values a request names (`dynamodb:LeadingKeys`), native or marshalled. */
function leadingKeys(action: string, input: Item, partitionKey: string): string[] {
  const value = (item: unknown) => {
    const raw = (item as Item | undefined)?.[partitionKey];
    return typeof raw === 'string' ? raw : String((raw as { S?: string } | undefined)?.S);
  };
  if (action === 'BatchWriteItem') {
    const writes = Object.values(input.RequestItems as Record<string, Item[]>).flat();
    return writes.map((write) =>
      value((write.PutRequest as Item | undefined)?.Item ?? (write.DeleteRequest as Item | undefined)?.Key),
    );
  }
  if (action === 'BatchGetItem') {
    const reads = Object.values(input.RequestItems as Record<string, { Keys?: Item[] }>);
    return reads.flatMap((read) => (read.Keys ?? []).map(value));
  }
  return [value(input.Key ?? input.Item)];
}

/** The partition key a base-table query names (`pk = :value` in its key condition). */
function queriedPartition(input: Item): string | undefined {
  const name = /(?:^|\s|\()pk\s*=\s*(:\w+)/.exec(String(input.KeyConditionExpression ?? ''))?.[1];
  const value = name ? (input.ExpressionAttributeValues as Item | undefined)?.[name] : undefined;
  if (typeof value === 'string') return value;
  return (value as { S?: string } | undefined)?.S;
}

/** A transaction's operations and the actions IAM checks them as. */
const transactionActions: ReadonlyArray<readonly [string, ItemAction]> = [
  ['Put', 'PutItem'],
  ['Update', 'UpdateItem'],
  ['Delete', 'DeleteItem'],
  ['ConditionCheck', 'ConditionCheckItem'],
];

/** Why a DynamoDB request is refused under `grants`, or `undefined` when IAM would allow it. */
export function dynamoRefusal(
  grants: FunctionGrants,
  action: string,
  input: Item,
  partitionKey: string,
): string | undefined {
  const table = grants.table;
  if (!table) return `dynamodb:${action}: no table access`;
  if (action === 'Query') {
    const index = input.IndexName as string | undefined;
    if (index === undefined) {
      const key = queriedPartition(input);
      return key !== undefined && table.partitionQueries && anyLike(table.partitionQueries, key)
        ? undefined
        : `dynamodb:Query on the base table, partition key ${String(key)}`;
    }
    return table.queries?.includes(index as never) ? undefined : `dynamodb:Query on index ${index}`;
  }
  if (action === 'TransactWriteItems') {
    // IAM checks each operation as the single-item action it stands for, on its own key.
    for (const operation of (input.TransactItems as Item[] | undefined) ?? []) {
      for (const [kind, itemAction] of transactionActions) {
        const request = operation[kind] as Item | undefined;
        if (!request) continue;
        const refused = dynamoRefusal(grants, itemAction, request, partitionKey);
        if (refused) return `${refused} (in a TransactWriteItems)`;
      }
    }
    return undefined;
  }
  const patterns = table.items[action as ItemAction];
  if (!patterns) return `dynamodb:${action}`;
  const refused = leadingKeys(action, input, partitionKey).find((key) => !anyLike(patterns, key));
  return refused === undefined ? undefined : `dynamodb:${action} on partition key ${refused}`;
}

/** Why a KMS request on a key of `role` is refused under `grants`, or `undefined` when it is allowed. */
export function kmsRefusal(grants: FunctionGrants, action: string, role: KeyRole): string | undefined {
  const allowed = kmsActions(grants)[role] ?? [];
  return allowed.includes(`kms:${action}`) ? undefined : `kms:${action} on the ${role} key`;
}

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
 * });
 * ```
 */
export function guardGrants(
  clients: { doc?: DynamoDBDocumentClient; kms?: KMSClient; sms?: SmsSender },
  options: {
    functionName: FunctionName;
    grants: FunctionGrants;
    keyRoles: ReadonlyMap<string, KeyRole>;
    partitionKey: string;
  },
): void {
  const { functionName, grants, keyRoles, partitionKey } = options;
  const step = { step: 'initialize', priority: 'low', name: 'localGrantGuard' } as const;
  clients.doc?.middlewareStack.add(
    guard(functionName, (action, input) => dynamoRefusal(grants, action, input, partitionKey)),
    step,
  );
  clients.kms?.middlewareStack.add(
    guard(functionName, (action, input) => {
      const keyId = (input.KeyId ?? input.TargetKeyId) as string | undefined;
      const role = (keyId && keyRoles.get(keyId)) || 'issuer';
      // The PII key serves two uses, told apart by the encryption context as its key policy does.
      const context = input.EncryptionContext as Record<string, string> | undefined;
      const batchItems = role === 'pii' && context?.purpose === batchItemsPurpose;
      return kmsRefusal(grants, action, batchItems ? 'batchItems' : role);
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

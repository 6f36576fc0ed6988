/**
 * Whether an EventBridge event pattern matches an event: just the part of EventBridge's matching the
 * stack's patterns use (Amazon EventBridge User Guide, "Creating event patterns" and "Comparison
 * operators"), so that a test can run sample events through the synthesised pattern JSON itself.
 *
 * - a field's value in the pattern is an array of matchers, any of which may match: a literal (equal),
 *   `{ "anything-but": value | values }` (present and none of them), `{ "exists": boolean }`;
 * - a nested object matches the event's object at that field;
 * - `$or` is an array of patterns, one of which must match besides the other fields;
 * - an event value that is an array matches if one of its elements does (arrays of objects included);
 * - a field absent from the event (or under one absent) matches only `{ "exists": false }`.
 *
 * Any other operator throws: a pattern the helper cannot read fails the test rather than passing it.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new Error(`not a pattern: ${JSON.stringify(pattern)}`);
  return Object.entries(pattern).every(([field, expected]) => {
    if (field === '$or') {
      if (!Array.isArray(expected)) throw new Error('$or takes an array of patterns');
      return expected.some((branch) => matchesPattern(branch, event));
    }
    const value = isObject(event) ? event[field] : undefined;
    if (Array.isArray(expected)) return expected.some((matcher) => matchesLeaf(matcher, value));
    if (!isObject(expected)) throw new Error(`${field}: a pattern field is an array or an object`);
    // EventBridge matches the leaves' paths: a field under one the event lacks is absent (`exists: false`).
    if (value === undefined) return matchesPattern(expected, {});
    return [value].flat().some((element) => matchesPattern(expected, element));
  });
}

function matchesLeaf(matcher: unknown, value: unknown): boolean {
  const values = [value].flat();
  if (!isObject(matcher)) return value !== undefined && values.some((v) => v === matcher);
  const entries = Object.entries(matcher);
  if (entries.length !== 1) throw new Error(`one operator per matcher: ${JSON.stringify(matcher)}`);
  const [operator, operand] = entries[0]!;
  if (operator === 'exists') return (value !== undefined) === operand;
  if (operator === 'anything-but') {
    const excluded = [operand].flat();
    if (excluded.some(isObject))
      throw new Error(`anything-but takes values only: ${JSON.stringify(operand)}`);
    return value !== undefined && values.some((v) => !excluded.includes(v));
  }
  throw new Error(`operator ${operator} is not implemented by this helper`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The template's value with CloudFormation's `Ref` and `Fn::GetAtt [id, 'Arn']` replaced by what they
 * would be in a deployed stack: `Ref: AWS::AccountId` the given account, a key's `Arn` a KMS key ARN
 * ending with its logical id (see {@link keyArnOf}).
 */
export function resolveTokens(value: unknown, account: string, types: Record<string, string> = {}): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveTokens(item, account, types));
  if (!isObject(value)) return value;
  if (value.Ref === 'AWS::AccountId') return account;
  // A table's name: its logical id.
  if (typeof value.Ref === 'string' && types[value.Ref] === 'AWS::DynamoDB::Table') return value.Ref;
  const sub = value['Fn::Sub'];
  if (typeof sub === 'string') {
    return sub
      .replaceAll('${AWS::Partition}', 'aws-cn')
      .replaceAll('${AWS::AccountId}', account)
      .replaceAll('${AWS::Region}', 'cn-north-1');
  }
  const getAtt = value['Fn::GetAtt'] as [string, string] | undefined;
  if (getAtt?.[1] === 'Arn' && types[getAtt[0]] === 'AWS::IAM::Role') return roleArnOf(getAtt[0], account);
  if (getAtt?.[1] === 'Arn') return keyArnOf(getAtt[0], account);
  if (Object.keys(value).some((key) => key.startsWith('Fn::') || key === 'Ref')) {
    throw new Error(`token not resolved by this helper: ${JSON.stringify(value)}`);
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, resolveTokens(item, account, types)]),
  );
}

/** The ARN {@link resolveTokens} gives the key of this logical id. */
export const keyArnOf = (logicalId: string, account: string) =>
  `arn:aws-cn:kms:cn-north-1:${account}:key/${logicalId}`;

/** The ARN {@link resolveTokens} gives the role of this logical id (types given). */
export const roleArnOf = (logicalId: string, account: string) =>
  `arn:aws-cn:iam::${account}:role/${logicalId}`;

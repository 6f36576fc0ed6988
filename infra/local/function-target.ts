/**
 * A function as Lambda's Invoke takes it: a name or an ARN (`arn:<partition>:lambda:<region>:<account>:
 * function:<name>`), either with `:<qualifier>` (a version or an alias), or the qualifier apart (Invoke's
 * `Qualifier`). Unqualified is `$LATEST`.
 *
 * @example
 * ```ts
 * functionTarget('list-signer:live'); // { name: 'list-signer', qualifier: 'live' }
 * functionTarget('arn:aws-cn:lambda:cn-north-1:123456789012:function:list-signer'); // { name: 'list-signer', qualifier: '$LATEST' }
 * ```
 */
export function functionTarget(target: string, qualifier?: string): { name: string; qualifier: string } {
  const [, name, own] =
    /^(?:arn:[^:]+:lambda:[^:]*:[^:]*:function:)?([^:]+)(?::([^:]+))?$/.exec(target) ?? [];
  return { name: name ?? target, qualifier: own ?? qualifier ?? '$LATEST' };
}

/**
 * A person's name as anonymous callers see it: the first character and, for names of three characters
 * or more, the last, the rest starred (`王小明` → `王*明`, `李四` → `李*`). Entity names are public.
 *
 * @example
 * ```ts
 * maskPersonName('欧阳小明'); // '欧**明'
 * ```
 */
export function maskPersonName(name: string): string {
  const chars = Array.from(name);
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return `${chars[0]}*`;
  return `${chars[0]}${'*'.repeat(chars.length - 2)}${chars.at(-1)}`;
}

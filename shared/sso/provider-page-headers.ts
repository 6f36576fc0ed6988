import type { KoaContextWithOIDC } from 'oidc-provider';
import { pageHeaders } from '../web/pages/interaction-html.js';

/**
 * What the provider's answers carry while it builds them: a policy whose only directive is `script-src
 * 'none'`. oidc-provider writes two pages of its own, each with one inline script that submits its form
 * (`form_post` responses, to a platform's `redirect_uri`; and `GET /session/end` without a provider
 * session, to the logout confirmation), and it adds that script's hash to the `script-src` of a policy
 * already set (`lib/helpers/script_src_sha.js`), and to nothing otherwise.
 */
const placeholder = "script-src 'none'";

const hash = /^'sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}'$/;

/** The directives of a policy, by name (the provider writes it back joined by `;` without spaces). */
function directivesOf(policy: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const directive of policy.split(';')) {
    const [name, ...values] = directive.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

/**
 * The hashes the provider added to {@link placeholder}, or `undefined` when `policy` is not the
 * placeholder (a page of ours set its own, {@link pageHeaders}, which stands).
 */
function addedHashes(policy: string): string[] | undefined {
  const directives = directivesOf(policy);
  const values = directives.get('script-src');
  if (directives.size !== 1 || values?.[0] !== "'none'") return undefined;
  const added = values.slice(1);
  return added.every((value) => hash.test(value)) ? added : undefined;
}

/**
 * The policy of the provider's own auto-submit pages: our pages' ({@link pageHeaders}: nothing but the
 * site's styles, never in a frame, no `<base>`), with the one script the provider hashed. Without
 * `form-action`: their form goes to a platform's callback, or to the logout confirmation that redirects
 * to the platform, and browsers hold the redirects that follow a form's submission to `form-action` too,
 * where the platform's own next redirect (to its home on another host, say) would be refused.
 */
function autoSubmitPolicy(hashes: readonly string[]): string {
  const ours = (pageHeaders()['content-security-policy'] ?? '')
    .split(';')
    .map((directive) => directive.trim())
    .filter((directive) => directive !== '' && !directive.startsWith('form-action'));
  return [...ours, ...(hashes.length > 0 ? [`script-src ${hashes.join(' ')}`] : [])].join('; ');
}

/**
 * Provider middleware: every HTML answer of the provider carries our pages' security headers, the
 * provider's own pages too (review R35 F3), which set none: a `Content-Security-Policy` with
 * `frame-ancestors 'none'` and the auto-submit script's hash alone, `Referrer-Policy: no-referrer` (a
 * `form_post` page holds an authorization code), `X-Content-Type-Options: nosniff` and `Cache-Control:
 * no-store`. A header a page set itself is kept. Answers other than HTML are left as the provider made
 * them. Register it first (`provider.use`), so that it wraps every other.
 *
 * @example
 * ```ts
 * provider.use(providerPageHeaders);
 * ```
 */
export async function providerPageHeaders(ctx: KoaContextWithOIDC, next: () => Promise<unknown>) {
  ctx.set('content-security-policy', placeholder);
  await next();
  const policy = ctx.response.get('content-security-policy');
  if (ctx.response.type !== 'text/html') {
    if (policy === placeholder) ctx.remove('content-security-policy');
    return;
  }
  const hashes = policy ? addedHashes(policy) : [];
  if (hashes !== undefined) ctx.set('content-security-policy', autoSubmitPolicy(hashes));
  const ours = pageHeaders();
  for (const name of ['x-content-type-options', 'referrer-policy', 'cache-control']) {
    const value = ours[name];
    if (!ctx.response.get(name) && value) ctx.set(name, value);
  }
}

import { nonCanonical, parameterRules, type ParameterKind } from '../../http/edge.js';

/** Longest `returnTo` the wallet keeps: a page and its query, never a payload. */
export const maxReturnToLength = 500;

/**
 * The wallet pages a sign-in may come back to, as route templates: each a page that only shows what the
 * person holds or asks before it changes anything. Not the sign-in and its callback, and never a QR page,
 * which signs a presentation (and audits it) as it is shown: a link that chose the return page chose the
 * fields too, on a navigation that began elsewhere (a sign-in form's submit starts a same-origin chain).
 * A QR page asked for comes back as its licence's page, where the person shows the code themselves.
 */
const returnPages: readonly string[] = [
  '/wallet',
  '/wallet/licences/{licenceId}',
  '/wallet/licences/{licenceId}/pdf',
  '/wallet/licences/{licenceId}/pdf.jws',
  '/wallet/passkeys',
  '/wallet/usage',
  '/wallet/account',
  '/wallet/account/close',
  '/wallet/account/export',
  '/wallet/authorizations',
  '/wallet/agents',
  '/wallet/agents/{agentId}/withdraw',
  '/scan-login/{scanLoginCode}',
];
const qrPage = '/wallet/licences/{licenceId}/qr';

/** Whether `segments` (a canonical path's) match `template`, each parameter in the shape of its kind. */
function matches(template: string, segments: readonly string[]): boolean {
  const parts = template.slice(1).split('/');
  if (parts.length !== segments.length) return false;
  return parts.every((part, i) => {
    const segment = segments[i] ?? '';
    const kind = /^\{([A-Za-z]+)\}$/.exec(part)?.[1] as ParameterKind | undefined;
    return kind ? parameterRules[kind].pattern.test(segment) : part === segment;
  });
}

/**
 * Where a sign-in started with `returnTo` comes back to: the path and query of a wallet page this origin
 * serves ({@link returnPages}, an allow-list), its licence's page for a QR page (query dropped), or
 * `undefined` for anything else (the sign-in then lands on `/wallet`). `returnTo` is read as a browser
 * would read it against `origin` and must already be in the path's one canonical form: another origin,
 * `//host`, a backslash, a scheme, a trailing or doubled slash, a `.` or `..` segment or an encoded slash
 * is refused rather than mended, since a gateway could serve such a path as a page the list leaves out.
 *
 * @example
 * ```ts
 * walletReturnPath('/wallet/passkeys?added=1', origin); // '/wallet/passkeys?added=1'
 * walletReturnPath('/wallet/licences/1.2.156/qr?disclose=vehicleClass', origin); // '/wallet/licences/1.2.156'
 * walletReturnPath('/wallet/licences/1.2.156/qr/', origin); // undefined
 * ```
 */
export function walletReturnPath(returnTo: string | undefined, origin: string): string | undefined {
  if (returnTo === undefined || returnTo.length > maxReturnToLength) return undefined;
  if (!returnTo.startsWith('/') || returnTo.startsWith('//') || /[\\\s]/.test(returnTo)) return undefined;
  let url: URL;
  try {
    url = new URL(returnTo, origin);
  } catch {
    return undefined;
  }
  if (url.origin !== new URL(origin).origin || url.hash !== '') return undefined;
  // As written: the URL parser resolved no dot segment and re-encoded nothing.
  const written = returnTo.split('?', 1)[0];
  if (written !== url.pathname || nonCanonical(url.pathname) !== undefined) return undefined;
  const segments = url.pathname.slice(1).split('/');
  if (matches(qrPage, segments)) return `/${segments.slice(0, 3).join('/')}`;
  if (!returnPages.some((template) => matches(template, segments))) return undefined;
  return `${url.pathname}${url.search}`;
}

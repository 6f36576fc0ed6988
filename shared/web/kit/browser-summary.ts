/**
 * What a person can recognise of a browser, shown when another device asks them to approve its sign-in
 * (scan-to-login): the browser and its system from the User-Agent, and the network it asked from,
 * approximately. Neither is proof of anything (a User-Agent is whatever the asker sends); they help a
 * person notice a request that is not their own.
 */

const browsers: ReadonlyArray<[string, RegExp]> = [
  ['Edge', /\bEdg(?:e|A|iOS)?\/(\d+)/],
  ['Opera', /\bOPR\/(\d+)/],
  ['WeChat', /\bMicroMessenger\/(\d+)/],
  ['Firefox', /\b(?:Firefox|FxiOS)\/(\d+)/],
  ['Chrome', /\b(?:Chrome|CriOS|HeadlessChrome)\/(\d+)/],
  ['Safari', /\bVersion\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari\//],
];

const systems: ReadonlyArray<[string, RegExp]> = [
  ['Windows', /\bWindows\b/],
  ['Android', /\bAndroid\b/],
  ['iOS', /\b(?:iPhone|iPad|iPod)\b/],
  ['macOS', /\bMac OS X\b/],
  ['HarmonyOS', /\bHarmonyOS\b/],
  ['Linux', /\bLinux\b/],
];

/**
 * A short summary of a User-Agent header, e.g. `Chrome 131 · Windows`; `unknown` parts are left out, and
 * an empty or unrecognised header gives `''`.
 *
 * @example
 * ```ts
 * userAgentSummary('Mozilla/5.0 (Windows NT 10.0; Win64; x64) … Chrome/131.0.0.0 Safari/537.36'); // 'Chrome 131 · Windows'
 * ```
 */
export function userAgentSummary(userAgent: string | undefined): string {
  const header = (userAgent ?? '').slice(0, 512);
  const browser = browsers.find(([, pattern]) => pattern.test(header));
  const system = systems.find(([, pattern]) => pattern.test(header));
  const version = browser ? browser[1].exec(header)?.[1] : undefined;
  return [browser ? `${browser[0]}${version ? ` ${version}` : ''}` : undefined, system?.[0]]
    .filter(Boolean)
    .join(' · ');
}

/**
 * An address made approximate: the /24 of an IPv4 address (`203.0.113.x`), the /48 of an IPv6 one
 * (`2001:db8:1::/48`); nothing for anything else. Enough to tell "my office" from "somewhere else", and
 * no more is kept.
 *
 * @example
 * ```ts
 * approximateAddress('::ffff:203.0.113.7'); // '203.0.113.x'
 * ```
 */
export function approximateAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  if (address === '::1') return address; // this machine: nothing to hide
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.\d{1,3}$/i.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.x`;
  if (!/^[0-9a-f:]+$/i.test(address) || !address.includes(':')) return undefined;
  const [head = '', tail] = address.split('::');
  const groups = head.split(':').filter(Boolean);
  if (groups.length < 3 && tail === undefined) return undefined;
  const first = [...groups, '0', '0', '0'].slice(0, 3).map((group) => group.replace(/^0+(?=.)/, ''));
  return `${first.join(':')}::/48`;
}

/**
 * A minimal browser for OpenID flows over real HTTP: keeps cookies per host (honouring `Path` and
 * expiry by `Max-Age=0`/deletion), follows redirects by hand until a response leaves the service
 * (the relying party's redirect URI), and submits the provider's self-posting forms as a browser's
 * script would.
 */
export class UserAgent {
  /** By name and path: cookies of one name set for two paths are two cookies, as in a browser. */
  readonly #cookies = new Map<string, { name: string; value: string; path: string }>();

  /**
   * `callbacks`: URL prefixes where a flow ends even on the service's own origin (the demo platform);
   * `fetcher`: how requests are sent (e.g. `fetchFrom(address)` to play a client at another address).
   */
  constructor(
    readonly baseUrl: string,
    readonly callbacks: string[] = [],
    readonly fetcher: typeof fetch = fetch,
  ) {}

  #leaves(url: URL): boolean {
    return (
      url.origin !== new URL(this.baseUrl).origin ||
      this.callbacks.some((prefix) => url.href.startsWith(prefix))
    );
  }

  /** Drops every cookie named `name`, whatever its path (as a person clearing it, or a browser losing it). */
  forget(name: string): void {
    for (const [key, cookie] of this.#cookies) if (cookie.name === name) this.#cookies.delete(key);
  }

  /**
   * Sets a cookie as another host of the parent domain could (a sibling's `Domain=` cookie reaches this
   * host too), for `path`.
   */
  plant(name: string, value: string, path = '/'): void {
    this.#cookies.set(`${name}\u0000${path}`, { name, value, path });
  }

  /** The `Cookie` header for `url`: longer paths first, as browsers order them (RFC 6265 §5.4). */
  cookieHeader(url: URL): string {
    return [...this.#cookies.entries()]
      .filter(([, c]) => pathMatches(url.pathname, c.path))
      .sort(([, a], [, b]) => b.path.length - a.path.length)
      .map(([, c]) => `${c.name}=${c.value}`)
      .join('; ');
  }

  #store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 1) continue;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const path = attributes.find((a) => a.toLowerCase().startsWith('path='))?.slice(5) ?? '/';
      const expired =
        attributes.some((a) => a.toLowerCase() === 'max-age=0') ||
        attributes.some(
          (a) => a.toLowerCase().startsWith('expires=') && Date.parse(a.slice(8)) < Date.now(),
        ) ||
        value === '';
      const key = `${name}\u0000${path}`;
      if (expired) this.#cookies.delete(key);
      else this.#cookies.set(key, { name, value, path });
    }
  }

  /** One request, no redirect following. */
  async request(
    url: string | URL,
    init: {
      method?: string;
      form?: Record<string, string>;
      /** A body as is (its `content-type` among `headers`), as a page's script would `fetch` it. */
      body?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const target = new URL(url, this.baseUrl);
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const cookie = this.cookieHeader(target);
    if (cookie) headers.cookie = cookie;
    let body: string | undefined = init.body;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await this.fetcher(target, {
      method: init.method ?? (init.form || init.body !== undefined ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    this.#store(response);
    return response;
  }

  /**
   * Follows redirects (and self-submitting forms) from `url` while they stay on the service; returns
   * the first URL outside it (the relying party's callback), or the page where the flow stopped.
   */
  async navigate(
    url: string | URL,
    init: { method?: string; form?: Record<string, string> } = {},
  ): Promise<{ leftTo?: URL; page?: { url: URL; status: number; html: string } }> {
    let current = new URL(url, this.baseUrl);
    let response = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        current = new URL(location, current);
        if (this.#leaves(current)) return { leftTo: current };
        response = await this.request(current);
        continue;
      }
      const html = await response.text();
      const autoForm = selfSubmittingForm(html);
      if (autoForm) {
        current = new URL(autoForm.action, current);
        if (current.origin !== new URL(this.baseUrl).origin)
          return { leftTo: formTarget(current, autoForm.fields) };
        response = await this.request(current, { form: autoForm.fields });
        continue;
      }
      return { page: { url: current, status: response.status, html } };
    }
    throw new Error('too many redirects');
  }
}

function formTarget(action: URL, fields: Record<string, string>): URL {
  const url = new URL(action);
  for (const [k, v] of Object.entries(fields)) url.searchParams.set(k, v);
  return url;
}

const decode = (value: string) =>
  value
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');

/** The provider's form_post and logout pages: a form that a script submits on load. */
function selfSubmittingForm(html: string): { action: string; fields: Record<string, string> } | undefined {
  if (!/<script[^>]*>[^<]*\.submit\(\)/.test(html) && !/onload=/.test(html)) return undefined;
  return parseForm(html);
}

/** The first form of a page: its action and the values of its inputs. */
export function parseForm(
  html: string,
  id?: string,
): { action: string; fields: Record<string, string> } | undefined {
  const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)];
  const form = id ? forms.find((f) => f[1]?.includes(`id="${id}"`)) : forms[0];
  if (!form) return undefined;
  const action = decode(/action="([^"]*)"/.exec(form[1] ?? '')?.[1] ?? '');
  const fields: Record<string, string> = {};
  for (const input of (form[2] ?? '').matchAll(/<input\b([^>]*)>/g)) {
    const attributes = input[1] ?? '';
    const name = /name="([^"]*)"/.exec(attributes)?.[1];
    if (!name) continue;
    const type = /type="([^"]*)"/.exec(attributes)?.[1];
    if ((type === 'radio' || type === 'checkbox') && !/\bchecked\b/.test(attributes)) continue;
    fields[decode(name)] = decode(/value="([^"]*)"/.exec(attributes)?.[1] ?? '');
  }
  return { action, fields };
}

/** RFC 6265 §5.1.4: the cookie's path is the request's, or a prefix of it ending at a `/`. */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  return (
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) &&
      (cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/'))
  );
}

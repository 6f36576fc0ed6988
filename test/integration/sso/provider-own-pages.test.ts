import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.js';
import { UserAgent } from '../../support/user-agent.js';

/**
 * Review R35 F3: oidc-provider's own pages (the `form_post` auto-submit, and `GET /session/end` without a
 * provider session) carried no Content-Security-Policy, frame-ancestors, Referrer-Policy or nosniff, so
 * another site could frame them, and a `form_post` page (which holds the authorization code) set no
 * referrer policy. They carry our pages' headers now, with the auto-submit script's hash alone.
 */
let runtime: TestRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(() => runtime?.close());

const get = (path: string, accept = 'text/html') =>
  fetch(`${runtime.baseUrl}${path}`, { headers: { accept }, redirect: 'manual' });

/** The `script-src` of a policy, and every directive's name. */
function policyOf(response: Response) {
  const policy = response.headers.get('content-security-policy') ?? '';
  const directives = new Map(
    policy.split(';').map((d) => {
      const [name = '', ...values] = d.trim().split(/\s+/);
      return [name, values] as const;
    }),
  );
  return { policy, directives };
}

async function expectAutoSubmitPage(response: Response) {
  const html = await response.text();
  expect(html).toContain('<title>Submitting Callback');
  const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
  expect(script).toBeDefined();
  const { directives } = policyOf(response);
  expect(directives.get('default-src')).toEqual(["'none'"]);
  expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
  expect(directives.get('base-uri')).toEqual(["'none'"]);
  // Its own script, by its hash, and nothing else: the browser runs it, and it submits the form.
  const digest = createHash('sha256').update(script!).digest('base64');
  expect(directives.get('script-src')).toEqual([`'sha256-${digest}'`]);
  expect(response.headers.get('referrer-policy')).toBe('no-referrer');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

describe('the provider’s own auto-submit pages', () => {
  it('GET /session/end without a provider session: our headers, its script by hash', async () => {
    const response = await get('/session/end');
    expect(response.status).toBe(200);
    await expectAutoSubmitPage(response);
  });

  it('a form_post answer: our headers, its script by hash', async () => {
    const query = new URLSearchParams({
      client_id: 'demo-platform',
      response_type: 'code',
      redirect_uri: `${runtime.baseUrl}/demo/callback`,
      scope: 'openid',
      response_mode: 'form_post',
      prompt: 'none',
    });
    const response = await get(`/authorize?${query.toString()}`);
    expect(response.status).toBe(400);
    await expectAutoSubmitPage(response);
  });
});

describe('the provider’s other answers', () => {
  it('keep a policy a page of ours set (the sign-in page’s own)', async () => {
    const ua = new UserAgent(runtime.baseUrl);
    let response = await ua.request('/wallet/login');
    for (let hops = 0; hops < 5 && response.status >= 300 && response.status < 400; hops++) {
      response = await ua.request(new URL(response.headers.get('location')!, runtime.baseUrl));
    }
    expect(response.status).toBe(200);
    expect(new URL(response.url).pathname).toMatch(/^\/interaction\//);
    const { directives } = policyOf(response);
    expect(directives.get('form-action')?.[0]).toBe("'self'");
    expect(directives.get('script-src')).toEqual(["'self'"]);
  });

  it('add no policy to JSON', async () => {
    const discovery = await get('/.well-known/openid-configuration', 'application/json');
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('content-security-policy')).toBeNull();
    const token = await fetch(`${runtime.baseUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: 'grant_type=client_credentials&client_id=nobody&client_secret=x',
    });
    expect(token.status).toBe(401);
    expect(token.headers.get('content-security-policy')).toBeNull();
  });
});

import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config.js';
import { buildDependencies } from '../../functions/composition/dependencies.js';
import { startLocalRuntime, type LocalRuntime, type Replacements } from '../../infra/local/runtime.js';

export interface TestRuntime extends LocalRuntime {
  dataDir: string;
}

/**
 * The configuration that turns the issuer console's sign-in with an agency's client secret back on
 * (`CONSOLE_CLIENT_SECRET_SIGN_IN`, off by default: a deployment migrating to clerks' own sign-ins), for
 * the tests of what that sign-in does.
 */
export const clientSecretConsole: Readonly<Record<string, string>> = {
  CONSOLE_CLIENT_SECRET_SIGN_IN: 'true',
};

/**
 * The real local runtime on a free port, with its data in a new temporary folder unless one is given;
 * `env` adds configuration variables; `replace` puts fakes of outside services in place of their
 * factories' (see {@link Replacements}).
 */
export async function startTestRuntime(
  dataDir?: string,
  env: Record<string, string> = {},
  replace?: Replacements,
  /** `main` runs the embedded DynamoDB in this thread, where a test can patch dynalite's own modules. */
  dynamoThread?: 'worker' | 'main',
): Promise<TestRuntime> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'elicence-test-')));
  const runtime = await startLocalRuntime(
    loadConfig({ PORT: '0', DATA_DIR: dir, LOG_LEVEL: 'SILENT', ...env }),
    process.env,
    { replace, ...(dynamoThread && { dynamoThread }) },
  );
  return { ...runtime, dataDir: dir };
}

/**
 * A runtime whose public origin (ISSUER_URL) is `https://localhost:<port>` while it listens on plain http
 * on that port, as a deployment behind TLS-terminating API Gateway does: `listener` is where to send the
 * requests. Its pages cannot reach its own OpenID provider (nothing answers https there), so flows that
 * need the page functions to call the provider do not work on it. One runtime at a time per process: the
 * handlers serve the runtime started last.
 */
export async function startHttpsTestRuntime(): Promise<TestRuntime & { listener: string }> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const runtime = await startTestRuntime(undefined, {
    PORT: String(port),
    ISSUER_URL: `https://localhost:${port}`,
  });
  return { ...runtime, listener: `http://localhost:${port}` };
}

/** A client-credentials access token from the runtime's token endpoint. */
export async function clientCredentialsToken(
  runtime: Pick<LocalRuntime, 'baseUrl'>,
  client: { clientId: string; clientSecret: string },
  scope: string,
): Promise<string> {
  const response = await fetch(`${runtime.baseUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.clientId)}:${encodeURIComponent(client.clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!response.ok || !body.access_token) {
    throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.access_token;
}

/** The runtime's dependencies, built afresh for `work` and released after it. */
export async function withRuntimeDeps<T>(
  runtime: TestRuntime,
  work: (deps: ReturnType<typeof buildDependencies>) => Promise<T>,
): Promise<T> {
  const deps = buildDependencies(runtime.config);
  try {
    return await work(deps);
  } finally {
    deps.doc.destroy();
    deps.kms.destroy();
  }
}

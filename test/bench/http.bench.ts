import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as client from 'openid-client';
import { functionGrants } from '../../functions/grants.js';
import { toApiGatewayEvent } from '../../infra/local/api-gateway.js';
import { dynamoRefusal } from '../../infra/local/grant-guard.js';
import { inProcessTransport } from '../../infra/local/in-process-transport.js';
import { invocation } from '../../infra/local/invocation.js';
import { routeMatcher } from '../../infra/local/route-matcher.js';
import { routes } from '../../functions/routes.js';
import { keys } from '../../shared/adapters/dynamo/keys.js';
import { table } from '../../shared/adapters/dynamo/table.js';
import { parseForm, UserAgent } from '../support/user-agent.js';
import { median, spread, type GoalRow } from './goals.js';
import { measure, type Measured } from './measure.js';
import { embeddedCallCost, type CallCost } from './dynamo-call-cost.js';
import { baselineRedirectUri, total } from './processes/protocol.js';
import { spawnBenchChild, type BenchChild } from './processes/spawn.js';

const ROUNDS = 8;
const SSO_PER_ROUND = 60;
const SSO_CONCURRENCY = 4;
/**
 * Single sign-ons each side serves before its rounds are counted. A process keeps compiling its hot code
 * for thousands of requests: measured on the service (its threads read from `/proc`), V8's compiler
 * threads spent 5.2 ms per flow in the first 1,000 flows and 1.1 ms after 3,000, and ours has far more code
 * on the path than oidc-provider alone. A warm Lambda container has served that many; both sides get the
 * same warm-up, so the ratio compares steady states.
 */
const SSO_WARM_UP = 2_000;
const VERIFY_PER_ROUND = 400;
const VERIFY_CONCURRENCY = 16;
const COUNTED = 20;
/** The requests of a single sign-on that reach the service: the authorization and the token request. */
const SSO_REQUESTS = 2;

interface Flow {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Takes a user agent from the authorization URL to the callback; returns the callback URL. */
  authenticate(ua: UserAgent, url: URL): Promise<URL>;
}

const metadata = new Map<string, client.ServerMetadata>();
async function cachedMetadata(baseUrl: string): Promise<client.ServerMetadata> {
  let found = metadata.get(baseUrl);
  if (!found) {
    found = (
      await client.discovery(new URL(baseUrl), 'x', undefined, undefined, {
        execute: [client.allowInsecureRequests],
      })
    ).serverMetadata();
    metadata.set(baseUrl, found);
  }
  return found;
}

/** authorize → (sign in) → code → token, as a relying party does it, with PKCE. */
async function loginFlow(flow: Flow, ua: UserAgent): Promise<void> {
  const config = new client.Configuration(
    await cachedMetadata(flow.baseUrl),
    flow.clientId,
    flow.clientSecret,
  );
  client.allowInsecureRequests(config);
  const verifier = client.randomPKCECodeVerifier();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: flow.redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state: 'bench',
  });
  const callback = await flow.authenticate(ua, url);
  const tokens = await client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: verifier,
    expectedState: 'bench',
  });
  if (!tokens.id_token) throw new Error('no ID token');
}

/** A client-credentials token from a child's token endpoint. */
async function machineToken(child: BenchChild, name: string, scope: string): Promise<string> {
  const { clientId, clientSecret } = child.credentials[name] as { clientId: string; clientSecret: string };
  const response = await fetch(`${child.baseUrl}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no ${scope} token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** CPU time per task of one side of a round, in ms: the child serving it and this load generator. */
interface CpuPerTask {
  child: number;
  loadGenerator: number;
}

/**
 * Runs `tasks` in `rounds` interleaved rounds (their order alternating), each `n` times at `concurrency`:
 * each task's rates per round, and the first task's ratio to the second within each round. Both see the
 * same machine within a round, so the ratio holds when the machine is busy. With `children` (the process
 * serving each task), also each side's CPU time per task: the child's and this load generator's.
 */
async function interleaved(
  rounds: number,
  n: number,
  concurrency: number,
  ours: () => Promise<unknown>,
  baseline: () => Promise<unknown>,
  children?: [BenchChild, BenchChild],
): Promise<{
  ours: Measured[];
  baseline: Measured[];
  ratios: number[];
  cpu: { ours: CpuPerTask[]; baseline: CpuPerTask[] };
}> {
  const result = {
    ours: [] as Measured[],
    baseline: [] as Measured[],
    ratios: [] as number[],
    cpu: { ours: [] as CpuPerTask[], baseline: [] as CpuPerTask[] },
  };
  const timed = async (side: 0 | 1, task: () => Promise<unknown>) => {
    const child = children?.[side];
    const before = child ? (await child.counts()).cpuMicros : 0;
    const own = process.cpuUsage();
    const measured = await measure(n, concurrency, task);
    const spent = process.cpuUsage(own);
    if (child) {
      result.cpu[side === 0 ? 'ours' : 'baseline'].push({
        child: ((await child.counts()).cpuMicros - before) / 1000 / n,
        loadGenerator: (spent.user + spent.system) / 1000 / n,
      });
    }
    return measured;
  };
  for (let round = 0; round < rounds; round++) {
    let a: Measured;
    let b: Measured;
    if (round % 2 === 0) {
      a = await timed(0, ours);
      b = await timed(1, baseline);
    } else {
      b = await timed(1, baseline);
      a = await timed(0, ours);
    }
    result.ours.push(a);
    result.baseline.push(b);
    result.ratios.push(a.rate / b.rate);
  }
  return result;
}

/**
 * DynamoDB and KMS operations per call of `task`, run `n` times one after another in warm containers:
 * one call first, not counted, as `round-trips.test.ts` warms them (the first request of a container reads
 * the client's registration, kept `CLIENT_CACHE_SECONDS`; the bench's platform is registered just before).
 */
async function perCall(
  service: BenchChild,
  n: number,
  task: () => Promise<unknown>,
): Promise<{ dynamo: number; kms: number; by: Record<string, number> }> {
  await task();
  await service.reset();
  for (let i = 0; i < n; i++) await task();
  const counts = await service.counts();
  return {
    dynamo: total(counts.dynamo) / n,
    kms: total(counts.kms) / n,
    by: Object.fromEntries(Object.entries(counts.dynamo).map(([op, count]) => [op, count / n])),
  };
}

const describe = (by: Record<string, number>) =>
  Object.entries(by)
    .map(([op, n]) => `${op} ${n.toFixed(2).replace(/\.00$/, '')}`)
    .join(', ');

/**
 * The local runtime's own cost, apart from the service's, timed in this process (µs per call): the grant
 * guard's check of one DynamoDB call; the in-process transport's own part of one call to the embedded
 * DynamoDB or KMS emulator (its request and response objects, against a server that answers at once);
 * the API gateway's routing and event building for one request; one async-context `run` per invocation.
 * Hot loops: the same code inside a busy process costs more (docs/benchmarks.md gives the profile's view).
 */
export async function runtimeOverhead(): Promise<{
  guardMicros: number;
  transportMicros: number;
  gatewayMicros: number;
  contextMicros: number;
}> {
  const time = async (n: number, task: (i: number) => unknown) => {
    for (let i = 0; i < n / 10; i++) await task(i); // warm: the optimised code is what runs in a busy process
    const begin = performance.now();
    for (let i = 0; i < n; i++) await task(i);
    return ((performance.now() - begin) * 1000) / n;
  };
  const input = { TableName: 'elicence', Key: keys.oidc('Session', 'x'.repeat(43)) };
  const guardMicros = await time(200_000, () =>
    dynamoRefusal(functionGrants.oidc, 'GetItem', input, table.partitionKey, {
      table: 'elicence',
      auditTable: 'elicence-audit',
      batchTable: 'elicence-batches',
    }),
  );
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  const transport = inProcessTransport(server);
  const body = JSON.stringify({
    TableName: 'elicence',
    Key: { pk: { S: input.Key.pk }, sk: { S: input.Key.sk } },
  });
  const transportMicros = await time(20_000, () =>
    transport.handle({
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8000,
      path: '/',
      query: {},
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.GetItem',
        'content-length': String(Buffer.byteLength(body)),
        host: '127.0.0.1:8000',
        'x-amz-date': '20261205T000000Z',
        'x-amz-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        authorization: `AWS4-HMAC-SHA256 Credential=local/20261205/cn-north-1/dynamodb/aws4_request, SignedHeaders=host, Signature=${'0'.repeat(64)}`,
        'amz-sdk-invocation-id': randomUUID(),
        'amz-sdk-request': 'attempt=1; max=3',
      },
      body,
    }),
  );
  const matchRoute = routeMatcher(routes);
  const headers = {
    host: 'localhost:3000',
    accept: 'text/html',
    cookie: `session=${'s'.repeat(43)}; session.sig=${'g'.repeat(27)}`,
    'user-agent': 'node',
    'accept-encoding': 'gzip, deflate',
    connection: 'keep-alive',
  };
  const request = {
    method: 'GET',
    url: `/authorize?client_id=${'c'.repeat(22)}&scope=openid&response_type=code&redirect_uri=https%3A%2F%2Fplatform.bench.example%2Fcb&code_challenge=${'x'.repeat(43)}&code_challenge_method=S256&state=bench`,
    httpVersion: '1.1',
    headers,
    headersDistinct: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    socket: { remoteAddress: '127.0.0.1', localPort: 3000 },
  } as unknown as IncomingMessage;
  const gatewayMicros = await time(50_000, () => {
    const url = new URL(request.url ?? '/', 'http://local');
    const matched = matchRoute('GET', url.pathname);
    if (!matched) throw new Error('no route for /authorize');
    return toApiGatewayEvent(request, Buffer.alloc(0), matched, { url });
  });
  const contextMicros = await time(200_000, (i) => invocation.run({ functionName: 'oidc' }, () => i));
  return { guardMicros, transportMicros, gatewayMicros, contextMicros };
}

/**
 * What the single sign-on's DynamoDB calls are of the service's CPU per flow, from one call's cost
 * measured apart (`embeddedCallCost`), and the ratio the flow could reach with none at all, if its rate
 * rose in proportion to the CPU saved (the rate is bound by the service's CPU: docs/benchmarks.md): how
 * far fewer calls, or a faster store, could move the goal's row.
 */
function ceilingWithoutCalls(calls: number, cost: CallCost, cpuMsPerFlow: number, ratio: number): string[] {
  const callsMs = (calls * cost.cpuMicros) / 1000;
  const rest = cpuMsPerFlow - callsMs;
  return [
    `One DynamoDB call, measured apart (GetItem and PutItem through the functions' document client, the in-process`,
    `  transport and the embedded DynamoDB's worker): ${cost.cpuMicros.toFixed(0)} µs of CPU (all threads), ${cost.callingThreadMicros.toFixed(0)} µs of the calling thread.`,
    `  Single sign-on's ${calls.toFixed(1)} calls are about ${callsMs.toFixed(2)} ms of ours' ${cpuMsPerFlow.toFixed(2)} ms per flow; with none at all, ${rest.toFixed(2)} ms:`,
    `  a ratio of at most about ${((ratio * cpuMsPerFlow) / rest).toFixed(2)} (the measured ${ratio.toFixed(2)} × ${cpuMsPerFlow.toFixed(2)} ÷ ${rest.toFixed(2)}).`,
  ];
}

/**
 * Sign-in and `POST /verify` over HTTP with the service (the local runtime), the baseline (oidc-provider
 * alone) and this load generator in three processes, rounds interleaved: single sign-on against the
 * baseline's single sign-on, `/verify` against `/healthz` on the same runtime, and the DynamoDB and KMS
 * operations each flow costs, counted by the embedded DynamoDB itself (every function's calls).
 */
export default async function run(): Promise<GoalRow[]> {
  const [service, baseline] = await Promise.all([spawnBenchChild('service'), spawnBenchChild('baseline')]);
  try {
    const admin = await machineToken(service, 'admin', 'admin');
    const registered = (await (
      await fetch(`${service.baseUrl}/admin/clients`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'Bench platform',
          redirectUris: [baselineRedirectUri],
          scopes: ['openid'],
          firstParty: true,
        }),
      })
    ).json()) as { clientId: string; clientSecret: string };
    const citizen = service.credentials.citizen as { idNumber: string; password: string };
    const ours: Flow = {
      baseUrl: service.baseUrl,
      redirectUri: baselineRedirectUri,
      ...registered,
      authenticate: async (ua, url) => {
        let step = await ua.navigate(url);
        if (step.page) {
          const form = parseForm(step.page.html);
          if (!form) throw new Error(`no sign-in form at ${step.page.url}`);
          step = await ua.navigate(form.action, {
            form: { username: citizen.idNumber, password: citizen.password },
          });
        }
        if (!step.leftTo) throw new Error(`flow stopped at ${step.page?.url} (${step.page?.status})`);
        return step.leftTo;
      },
    };
    const platform = baseline.credentials.platform as { clientId: string; clientSecret: string };
    const plain: Flow = {
      baseUrl: baseline.baseUrl,
      redirectUri: baselineRedirectUri,
      ...platform,
      authenticate: async (ua, url) => {
        const step = await ua.navigate(url);
        if (!step.leftTo) throw new Error(`baseline flow stopped at ${step.page?.url}`);
        return step.leftTo;
      },
    };

    // Sign-in: a complete login (password, scrypt) costs what it costs; single sign-on is the figure.
    const password = await perCall(service, 5, () => loginFlow(ours, new UserAgent(service.baseUrl)));
    const oursSignedIn = new UserAgent(service.baseUrl);
    const plainSignedIn = new UserAgent(baseline.baseUrl);
    await loginFlow(ours, oursSignedIn);
    await loginFlow(plain, plainSignedIn);
    const sso = await perCall(service, COUNTED, () => loginFlow(ours, oursSignedIn));
    await measure(SSO_WARM_UP, SSO_CONCURRENCY, () => loginFlow(ours, oursSignedIn));
    await measure(SSO_WARM_UP, SSO_CONCURRENCY, () => loginFlow(plain, plainSignedIn));
    const ssoRounds = await interleaved(
      ROUNDS,
      SSO_PER_ROUND,
      SSO_CONCURRENCY,
      () => loginFlow(ours, oursSignedIn),
      () => loginFlow(plain, plainSignedIn),
      [service, baseline],
    );

    // POST /verify: a licence issued over the issuers' API, verified anonymously and by a verifier app.
    const issuerToken = await machineToken(service, 'issuer', 'licences:issue');
    const issued = await fetch(`${service.baseUrl}/licences`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${issuerToken}`,
        'content-type': 'application/json',
        'idempotency-key': randomUUID(),
      },
      body: JSON.stringify({
        type: 'driving-licence',
        holder: { idNumber: citizen.idNumber },
        holderName: (service.credentials.citizen as { name: string }).name,
        fields: { vehicleClass: 'C1', firstIssuedOn: '2012-05-04', archiveNumber: '110100123456' },
      }),
    });
    const { credential } = (await issued.json()) as { credential: string };
    if (!credential) throw new Error(`issuance failed: ${issued.status}`);
    const verifierToken = await machineToken(service, 'verifier', 'licences:verify');
    const verify = (token?: string) => async () => {
      const response = await fetch(`${service.baseUrl}/verify`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ qr: credential }),
      });
      const body = (await response.json()) as { verdict?: string };
      if (response.status !== 200 || body.verdict !== 'valid')
        throw new Error(`${response.status} ${JSON.stringify(body)}`);
    };
    const health = async () => {
      const response = await fetch(`${service.baseUrl}/healthz`);
      await response.arrayBuffer();
    };
    // Warm, as single sign-on is counted warm: a container's first verification also reads the issuer
    // (kept for ISSUER_CACHE_SECONDS) and the token's client (CLIENT_CACHE_SECONDS).
    await verify(verifierToken)();
    const anonymous = await perCall(service, COUNTED, verify());
    const withToken = await perCall(service, COUNTED, verify(verifierToken));
    await measure(200, VERIFY_CONCURRENCY, verify());
    const verifyRounds = await interleaved(ROUNDS, VERIFY_PER_ROUND, VERIFY_CONCURRENCY, verify(), health);
    const tokenRounds = await interleaved(
      ROUNDS / 2,
      VERIFY_PER_ROUND,
      VERIFY_CONCURRENCY,
      verify(verifierToken),
      health,
    );
    const overhead = await runtimeOverhead();
    const callCost = await embeddedCallCost();

    const cpuMs = (runs: CpuPerTask[], part: keyof CpuPerTask) => median(runs.map((r) => r[part])).toFixed(2);
    const rate = (runs: Measured[]) => Math.round(median(runs.map((m) => m.rate)));
    const p50 = (runs: Measured[]) => median(runs.map((m) => m.p50)).toFixed(1);
    console.log(
      `\nOver HTTP, service, baseline and load generator in separate processes (${ROUNDS} interleaved rounds: medians)`,
    );
    console.table([
      {
        what: 'single sign-on (session cookie): ours',
        'per s': rate(ssoRounds.ours),
        'p50 ms': p50(ssoRounds.ours),
      },
      {
        what: 'single sign-on: oidc-provider alone, in memory',
        'per s': rate(ssoRounds.baseline),
        'p50 ms': p50(ssoRounds.baseline),
      },
      {
        what: 'POST /verify, credential, anonymous',
        'per s': rate(verifyRounds.ours),
        'p50 ms': p50(verifyRounds.ours),
      },
      {
        what: 'POST /verify, credential, verifier token',
        'per s': rate(tokenRounds.ours),
        'p50 ms': p50(tokenRounds.ours),
      },
      { what: 'GET /healthz', 'per s': rate(verifyRounds.baseline), 'p50 ms': p50(verifyRounds.baseline) },
    ]);
    console.log(
      [
        `DynamoDB operations per flow, counted by the embedded DynamoDB:`,
        `  login with password  ${password.dynamo.toFixed(1)} (${describe(password.by)}); KMS ${password.kms.toFixed(1)}`,
        `  single sign-on       ${sso.dynamo.toFixed(1)} (${describe(sso.by)}); KMS ${sso.kms.toFixed(1)}`,
        `  /verify anonymous    ${anonymous.dynamo.toFixed(1)} (${describe(anonymous.by)})`,
        `  /verify with a token ${withToken.dynamo.toFixed(1)} (${describe(withToken.by)})`,
        `The local runtime's own cost (not the service's), hot loops: the grant guard ${overhead.guardMicros.toFixed(2)} µs per DynamoDB call,`,
        `  the in-process transport ${overhead.transportMicros.toFixed(1)} µs per DynamoDB or KMS call, the API gateway's routing and event`,
        `  ${overhead.gatewayMicros.toFixed(1)} µs and async-context tracking ${overhead.contextMicros.toFixed(2)} µs per request; per single sign-on about ` +
          `${(
            sso.dynamo * (overhead.guardMicros + overhead.transportMicros) +
            sso.kms * overhead.transportMicros +
            SSO_REQUESTS * (overhead.gatewayMicros + overhead.contextMicros)
          ).toFixed(0)} µs of ` +
          `${(1e6 / median(ssoRounds.ours.map((m) => m.rate)) / 1).toFixed(0)} µs (${SSO_CONCURRENCY} in flight)`,
        `CPU time per single sign-on (medians of the rounds; ${cpus().length} cores): ours ${cpuMs(ssoRounds.cpu.ours, 'child')} ms in the service,`,
        `  ${cpuMs(ssoRounds.cpu.ours, 'loadGenerator')} ms in the load generator; the baseline ${cpuMs(ssoRounds.cpu.baseline, 'child')} ms in oidc-provider alone, ` +
          `${cpuMs(ssoRounds.cpu.baseline, 'loadGenerator')} ms in the load generator`,
        ...ceilingWithoutCalls(
          sso.dynamo,
          callCost,
          median(ssoRounds.cpu.ours.map((r) => r.child)),
          median(ssoRounds.ratios),
        ),
      ].join('\n'),
    );

    const ssoRatio = median(ssoRounds.ratios);
    const verifyRatio = median(verifyRounds.ratios);
    return [
      {
        what: 'single-sign-on flows/s ÷ oidc-provider alone SSO flows/s (separate processes)',
        measured: `${ssoRatio.toFixed(2)} (rounds ${spread(ssoRounds.ratios)})`,
        goal: '≥ 0.5',
        met: ssoRatio >= 0.5,
      },
      {
        what: 'DynamoDB calls per SSO flow / per password login',
        measured: `${sso.dynamo.toFixed(1)} / ${password.dynamo.toFixed(1)}`,
        goal: '≤ 6 / ≤ 10',
        met: sso.dynamo <= 6 && password.dynamo <= 10,
      },
      {
        what: `POST /verify req/s ÷ GET /healthz req/s, concurrency ${VERIFY_CONCURRENCY}`,
        measured: `${verifyRatio.toFixed(3)} (${rate(verifyRounds.ours)}/s; rounds ${spread(verifyRounds.ratios, 3)})`,
        goal: '≥ 0.10',
        met: verifyRatio >= 0.1,
      },
      {
        what: 'DynamoDB calls per /verify (anonymous / with a token)',
        measured: `${anonymous.dynamo.toFixed(1)} / ${withToken.dynamo.toFixed(1)}`,
        goal: '≤ 2 / ≤ 2',
        met: anonymous.dynamo <= 2 && withToken.dynamo <= 2,
      },
    ];
  } finally {
    await Promise.all([service.close(), baseline.close()]);
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const { printGoals } = await import('./goals.js');
  printGoals(await run());
}

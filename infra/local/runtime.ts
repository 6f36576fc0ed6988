import type { DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { functionGrants, type KeyRole } from '../../functions/grants.js';
import { gatewayRoutes } from '../../functions/routes.js';
import type { Config } from '../../shared/config.js';
import {
  buildDependencies,
  provideDependencies,
  type Buildable,
  type Dependencies,
} from '../../functions/composition/dependencies.js';
import { MemoryAssets } from '../../shared/web/assets.js';
import { webAssetsOnce } from '../web-assets.js';
import { ensureTable } from '../../shared/adapters/dynamo/create-table.js';
import { backfillUsageIndex } from '../../shared/adapters/dynamo/usage-index-backfill.js';
import { auditTable, table } from '../../shared/adapters/dynamo/table.js';
import { createDynamoClient } from '../../shared/adapters/dynamo/client.js';
import { migrateLocalTable } from './migrate-table.js';
import { ensurePlatformKeys, serviceKeyRoles } from './bootstrap-keys.js';
import { guardGrants } from './grant-guard.js';
import { invocation } from './invocation.js';
import { startLocalDynamo, streamConsumerHeader, type LocalDynamo } from './dynamo.js';
import { startKmsEmulator, type KmsEmulator } from './kms-emulator.js';
import { startLambdaEmulator, type LambdaEmulator, type LambdaHandler } from './lambda-emulator.js';
import { seedDemo, type DemoCredentials } from './seed.js';
import { tapStream, type LocalStream, type LocalStreamFailure } from './streams.js';
import { tapBatchQueue, type LocalQueue } from './queues.js';
import { startNoticeRounds, type NoticeRound } from './notice-rounds.js';
import { startSchedules } from './schedules.js';
import { prefixes } from '../../shared/adapters/dynamo/keys.js';
import { createLocalServer, importFunction, type HandlerLoader } from './server.js';

export interface LocalRuntime {
  baseUrl: string;
  /** The configuration the functions run with: the endpoints and port chosen included. */
  config: Config;
  credentials: DemoCredentials;
  credentialsFile: string;
  /** The embedded KMS emulator (absent when pointed at LocalStack or AWS), for fault injection. */
  kms: KmsEmulator | undefined;
  /** The embedded DynamoDB (absent when pointed at LocalStack or AWS), for its operation counts. */
  dynamo: LocalDynamo | undefined;
  /**
   * Lambda's Invoke API in process (absent when `AWS_ENDPOINT_URL_LAMBDA` points elsewhere): how the list
   * functions reach the list signer; for its counts and fault injection.
   */
  lambda: LambdaEmulator | undefined;
  /**
   * Resolves once every audit entry written so far has reached the supervision consumer
   * (`supervision-events`, fed by the embedded DynamoDB's stream tap; at once without one).
   */
  drainStreams(): Promise<void>;
  /** The stream batches the consumer failed every attempt at (in AWS: the dead-letter queue). */
  streamFailures(): ReadonlyArray<LocalStreamFailure>;
  /**
   * Resolves once every bulk issuance job submitted so far has been run by `batches` (fed by the local
   * batch queue, infra/local/queues.ts; at once without the embedded DynamoDB).
   */
  drainBatches(): Promise<void>;
  /** Batch jobs that failed every delivery (in AWS: the batch queue's dead-letter queue). */
  batchFailures(): ReadonlyArray<{ body: string; error: string }>;
  /**
   * The SMS queue (requested codes, run by `sms-codes` after the answer; absent without the embedded
   * DynamoDB): `drain()` resolves once every code asked for so far was sent or dropped, `failures` are
   * the jobs that failed every delivery (in AWS: the SMS dead-letter queue), `hold()` delays sending.
   */
  smsQueue: LocalQueue | undefined;
  /**
   * Runs a round of the withdrawal notices due (the `notices` function, as the stack's schedule does every
   * minute), after the round under way, and resolves with what it did.
   */
  deliverNotices(): Promise<NoticeRound>;
  /**
   * Runs a scheduled function now, as its schedule does (`pending-work-reconciler` every minute, the stack's
   * `PendingWorkSchedule`; `audit-check` daily, its `AuditCheckSchedule`), in its own invocation; resolves
   * with what it answered.
   */
  runSchedule(functionName: 'pending-work-reconciler' | 'audit-check'): Promise<unknown>;
  /**
   * Resolves with the reason once the runtime stopped on its own: the embedded DynamoDB died, so the
   * runtime logged it and closed itself (its server no longer answers) rather than serve `/healthz` while
   * every table call fails (security review L4). `npm start` exits non-zero with it. Never settles
   * otherwise.
   */
  stopped: Promise<Error>;
  close(): Promise<void>;
}

/**
 * Dependencies a test puts in place of their factories' (a fake of an outside service the runtime cannot
 * reach), each built once from the operator's set and given to every function that composes it.
 */
export type Replacements = { [K in Buildable]?: (operator: Dependencies) => Dependencies[K] };

/**
 * Marks the table requests of a stream consumer's container, so that the embedded DynamoDB counts them
 * apart (`streamStats`): they are off the request path, and a request's count must not include them.
 */
function markStreamConsumer(container: Partial<Dependencies>): void {
  container.doc?.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers[streamConsumerHeader] = '1';
      return next(args);
    },
    { step: 'build', name: 'localStreamConsumerMark' },
  );
}

/**
 * Points a container's DynamoDB and KMS clients at the embedded services in process (their `transport`,
 * `./in-process-transport.ts`) instead of over loopback TCP: the SDK still serialises, signs and retries
 * each request, and the emulators still read and answer the same bytes. A client a test put in place
 * (`Replacements`) is left as it is. Clients connect on first use, so this precedes any request.
 */
function connectInProcess(
  container: Partial<Dependencies>,
  embedded: { dynamo?: LocalDynamo; kms?: KmsEmulator; lambda?: LambdaEmulator },
  replaced: Replacements,
): void {
  if ('lambda' in container && !replaced.lambda && container.lambda && embedded.lambda) {
    container.lambda.config.requestHandler = embedded.lambda.transport;
  }
  if ('doc' in container && !replaced.doc && container.doc && embedded.dynamo) {
    container.doc.config.requestHandler = embedded.dynamo.transport;
  }
  if ('kms' in container && !replaced.kms && container.kms && embedded.kms) {
    container.kms.config.requestHandler = embedded.kms.transport;
  }
}

export class PortInUseError extends Error {
  readonly code = 'port_in_use';
  constructor(port: number) {
    super(
      `Port ${port} is already in use: stop the other process or choose another with PORT=3001 npm start`,
    );
  }
}

/**
 * The embedded default: DynamoDB (dynalite, LevelDB under `DATA_DIR`) and the KMS emulator in this
 * process unless `AWS_ENDPOINT_URL` or real AWS is configured, one HTTP server playing API Gateway in
 * front of the same handlers Lambda runs, the table and platform keys created when absent, and the demo
 * seeded. Requests wait until all of that is in place.
 *
 * The runtime launches the handlers, so it provides their dependencies, built from `config` with the
 * endpoints and port it chose (`PORT=0` picks a free port, as tests do).
 *
 * @example
 * ```ts
 * const runtime = await startLocalRuntime(loadConfig({ PORT: '0', DATA_DIR: tmp }));
 * await fetch(`${runtime.baseUrl}/healthz`);
 * await runtime.close();
 * ```
 */
export async function startLocalRuntime(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  options: {
    loadHandler?: HandlerLoader;
    replace?: Replacements;
    /** Where the embedded DynamoDB runs (`LocalDynamoOptions.thread`): `main` for a test that patches dynalite. */
    dynamoThread?: 'worker' | 'main';
  } = {},
): Promise<LocalRuntime> {
  await mkdir(config.dataDir, { recursive: true });
  const embedded = config.dynamodbEndpoint === undefined && config.kmsEndpoint === undefined;
  let dynamo: LocalDynamo | undefined;
  let kms: KmsEmulator | undefined;
  if (embedded) {
    // The KMS emulator first: its lock names the process already running on this DATA_DIR, if any
    // (review R53 F2), where dynalite's store only says it cannot be opened.
    kms = await startKmsEmulator({ dataDir: config.dataDir, owner: 'npm start' });
    try {
      dynamo = await startLocalDynamo({
        dataDir: config.dataDir,
        ...(options.dynamoThread && { thread: options.dynamoThread }),
      });
    } catch (error) {
      await kms.close();
      throw error;
    }
    // The SDK's credential chain needs some credentials; the embedded services ignore them.
    env.AWS_ACCESS_KEY_ID ??= 'local';
    env.AWS_SECRET_ACCESS_KEY ??= 'local';
    // A table of an older version that lacks an index its declaration has now (the audit table's gsi3):
    // rebuilt keeping every item (dynalite cannot add an index), before the stream tap below sees writes.
    const admin = createDynamoClient({
      region: config.region,
      endpoint: dynamo.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      for (const [tableName, declaration] of [
        [config.tableName, table],
        [config.auditTableName, auditTable],
        [config.batchTableName, table],
      ] as const) {
        await migrateLocalTable(admin, tableName, declaration, { dataDir: config.dataDir });
      }
    } catch (error) {
      await dynamo.close();
      await kms.close();
      throw error;
    } finally {
      admin.destroy();
    }
  }

  let ready!: () => void;
  const readiness = new Promise<void>((resolve) => (ready = resolve));
  const server = createLocalServer(gatewayRoutes, { ready: readiness, loadHandler: options.loadHandler });

  /** A queue consumer's handler, imported at its first message (as Lambda loads it at a cold start). */
  const queueConsumer = (name: 'batches' | 'sms-codes') => async () => {
    const entry = new URL(`../../functions/${name}.ts`, import.meta.url).href;
    const module = (await import(/* @vite-ignore */ entry)) as {
      handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
    };
    return module.handler;
  };

  // Lambda's Invoke API, for the functions that invoke another (the list signer): each runs in its own
  // invocation, with its own grants, as the server's routes do.
  const lambda =
    config.lambdaEndpoint === undefined
      ? await startLambdaEmulator({
          // The loader the routes use when one is given (the bundles' test runs the signer's bundle).
          load: (name) =>
            options.loadHandler
              ? (options.loadHandler(name) as Promise<unknown> as Promise<LambdaHandler>)
              : importFunction<LambdaHandler>(name),
        })
      : undefined;
  const stopEmbedded = async () => {
    await dynamo?.close();
    await kms?.close();
    await lambda?.close();
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new PortInUseError(config.port) : error),
      );
      server.listen(config.port, resolve);
    });
  } catch (error) {
    await stopEmbedded();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const functionConfig: Config = {
    ...config,
    issuerUrl: config.port === 0 ? `http://localhost:${port}` : config.issuerUrl,
    dynamodbEndpoint: dynamo?.endpoint ?? config.dynamodbEndpoint,
    kmsEndpoint: kms?.endpoint ?? config.kmsEndpoint,
    lambdaEndpoint: lambda?.endpoint ?? config.lambdaEndpoint,
  };
  const webAssets = new MemoryAssets(webAssetsOnce);
  // The operator's set: bootstrap, the demo seed, and tests arranging or inspecting data.
  const deps = { ...buildDependencies(functionConfig), webAssets };
  const replaced = new Map<string, unknown>();
  const replace = (container: Partial<Dependencies>) => {
    for (const [name, make] of Object.entries(options.replace ?? {})) {
      if (!(name in container) && container !== deps) continue;
      if (!replaced.has(name)) replaced.set(name, (make as (operator: Dependencies) => unknown)(deps));
      Object.defineProperty(container, name, { value: replaced.get(name), enumerable: true });
    }
  };
  replace(deps);
  const inProcess = { ...(dynamo && kms && { dynamo, kms }), ...(lambda && { lambda }) };
  connectInProcess(deps, inProcess, options.replace ?? {});
  // Each function builds its own container from its own composition, as in Lambda: its own clients and
  // caches, with its grants enforced on them and the browser assets served from memory.
  let keyRoles: ReadonlyMap<string, KeyRole> = new Map();
  const tables = {
    table: functionConfig.tableName,
    auditTable: functionConfig.auditTableName,
    batchTable: functionConfig.batchTableName,
  };
  const containers: Array<Partial<Dependencies>> = [];
  provideDependencies({
    operator: deps,
    prepare: (container) => {
      containers.push(container);
      replace(container);
      connectInProcess(container, inProcess, options.replace ?? {});
      if ('webAssets' in container) {
        Object.defineProperty(container, 'webAssets', { value: webAssets, enumerable: true });
      }
      const running = invocation.getStore();
      // Consumers off the request path (the stream's, the batch and SMS queues', the schedules') are
      // counted apart: a request's count must not depend on when they happen to run.
      if (
        (running?.functionName === 'supervision-events' ||
          running?.functionName === 'batches' ||
          running?.functionName === 'sms-codes' ||
          running?.functionName === 'notices' ||
          running?.functionName === 'pending-work-reconciler' ||
          running?.functionName === 'audit-check') &&
        dynamo
      ) {
        markStreamConsumer(container);
      }
      if (running) {
        guardGrants(container, {
          functionName: running.functionName,
          grants: functionGrants[running.functionName],
          keyRoles,
          partitionKey: table.partitionKey,
          tables,
        });
      }
    },
  });
  // DynamoDB Streams and the event source mapping, locally: audit inserts into the audit table (whose
  // stream is the only one supervision-events is granted) reach supervision-events.
  const stream: LocalStream | undefined =
    dynamo &&
    tapStream(dynamo, {
      tableName: functionConfig.auditTableName,
      tables,
      partitionKeyPrefix: prefixes.audit,
      functionName: 'supervision-events',
      load: async () => {
        const entry = new URL('../../functions/supervision-events.ts', import.meta.url).href;
        const module = (await import(/* @vite-ignore */ entry)) as {
          handler: (event: DynamoDBStreamEvent) => Promise<void>;
        };
        return module.handler;
      },
    });
  // The batch pipeline, locally: a job's insert into the batch table (whose stream the stack's pipe reads;
  // the service table has none) becomes a message of the batch queue, run by `batches`.
  const batchQueue: LocalQueue | undefined =
    dynamo &&
    tapBatchQueue(dynamo, {
      tableName: functionConfig.batchTableName,
      partitionKeyPrefix: prefixes.batch,
      functionName: 'batches',
      load: queueConsumer('batches'),
    });
  // Requested SMS codes: each job's insert in the batch table becomes a message of the SMS queue, run by
  // `sms-codes` after the request was answered (docs/security.md, "Timing").
  const smsQueue: LocalQueue | undefined =
    dynamo &&
    tapBatchQueue(dynamo, {
      tableName: functionConfig.batchTableName,
      partitionKeyPrefix: prefixes.smsJob,
      functionName: 'sms-codes',
      queueName: 'sms-codes',
      message: (item) => (item.id?.S ? JSON.stringify({ smsJob: item.id.S }) : undefined),
      load: queueConsumer('sms-codes'),
    });
  // Withdrawal notices to the platforms: a round every NOTICE_INTERVAL_SECONDS and at each new notice.
  const noticeRounds = startNoticeRounds(dynamo, {
    tableName: functionConfig.tableName,
    intervalSeconds: functionConfig.notices.intervalSeconds,
    load: async () => {
      const entry = new URL('../../functions/notices.ts', import.meta.url).href;
      const module = (await import(/* @vite-ignore */ entry)) as { handler: () => Promise<NoticeRound> };
      return module.handler;
    },
  });
  // EventBridge's schedules, locally: the reconciler of licence changes' pending work, every minute
  // (the stack's `PendingWorkSchedule`), and the audit chains' check, daily (`AuditCheckSchedule`).
  const scheduled = (functionName: 'pending-work-reconciler' | 'audit-check', everySeconds: number) => ({
    functionName,
    everySeconds,
    load: async () => {
      const entry = new URL(`../../functions/${functionName}.ts`, import.meta.url).href;
      const module = (await import(/* @vite-ignore */ entry)) as { handler: () => Promise<unknown> };
      return module.handler;
    },
  });
  const schedules = startSchedules([
    scheduled('pending-work-reconciler', 60),
    scheduled('audit-check', 86_400),
  ]);
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= closeOnce());
  const closeOnce = async () => {
    await noticeRounds.stop();
    await schedules.stop();
    await batchQueue?.stop();
    await smsQueue?.stop();
    await stream?.stop();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    provideDependencies(undefined);
    for (const container of [deps, ...containers]) {
      container.doc?.destroy();
      container.kms?.destroy();
      if ('lambda' in container) container.lambda?.destroy();
    }
    await stopEmbedded();
  };

  // A crash of the embedded DynamoDB leaves nothing to serve: say why and stop, as the process did when
  // dynalite ran in it.
  const stopped = (dynamo?.failed ?? new Promise<never>(() => undefined)).then(async (error) => {
    const reason = new Error(`The local runtime stopped: ${error.message}`, { cause: error });
    console.error(reason.message);
    await close().catch((closeError: unknown) => console.error(closeError));
    return reason;
  });

  try {
    const admin = createDynamoClient({ region: deps.config.region, endpoint: deps.config.dynamodbEndpoint });
    // The service table, the audit table and the batch table, from the one declaration
    // (shared/adapters/dynamo/table.ts).
    await ensureTable(admin, deps.config.tableName);
    await ensureTable(admin, deps.config.auditTableName, auditTable);
    await ensureTable(admin, deps.config.batchTableName);
    // The usage record by kind (gsi3): index what an older version wrote into `.data`, and leave the mark
    // (on a new table, at once), as the deployment step does in AWS (docs/operating.md).
    await backfillUsageIndex(deps.doc, deps.config.auditTableName);
    await ensurePlatformKeys(deps.kms, deps.config);
    keyRoles = await serviceKeyRoles(deps.kms, deps.config);
    const credentials = await seedDemo(deps, deps.config.issuerUrl);
    const credentialsFile = join(config.dataDir, 'credentials.json');
    await writeFile(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
    await chmod(credentialsFile, 0o600);
    // The seed's audit entries counted before the first request: the consumer (and its first import)
    // is then idle when serving starts, as a deployed one is.
    await stream?.drain();
    ready();
    return {
      baseUrl: deps.config.issuerUrl,
      config: functionConfig,
      credentials,
      credentialsFile,
      kms,
      dynamo,
      lambda,
      drainStreams: async () => stream?.drain(),
      streamFailures: () => stream?.failures ?? [],
      drainBatches: async () => batchQueue?.drain(),
      batchFailures: () => batchQueue?.failures ?? [],
      smsQueue,
      deliverNotices: () => noticeRounds.deliverNow(),
      runSchedule: (functionName) => schedules.run(functionName),
      stopped,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

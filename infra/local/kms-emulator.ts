import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KmsFault, kmsOperations, type Operation } from './kms-operations.js';
import { KmsKeyStore } from './kms-store.js';
import { inProcessTransport, type InProcessTransport } from './in-process-transport.js';
import { BodyTooLarge, readBody } from './read-body.js';

/** Request bodies above this are refused before parsing; KMS payloads are at most a few KiB. */
const MAX_BODY_BYTES = 64 * 1024;
const TARGET_PREFIX = 'TrentService.';
const DEFAULT_REGION = 'us-east-1';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

export interface KmsEmulatorOptions {
  /** Keys persist under `<dataDir>/kms/`; the same directory after a restart keeps the same keys. */
  dataDir: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1: the emulator has no authentication. */
  host?: string;
  /**
   * What this emulator serves, named to another process that tries to open the same keys (`npm start`,
   * `npm run local:kms`): the keys are locked while it runs (`KmsKeyStore`, review R53 F2).
   */
  owner?: string;
}

export interface KmsFaults {
  /** Fraction (0..1) of calls answered with `ThrottlingException`, spread evenly over calls. */
  throttleRate?: number;
  /** Added to every call before it is answered. */
  latencyMs?: number;
}

export interface KmsEmulator {
  /** Base URL for the SDK's `endpoint` option. */
  endpoint: string;
  /**
   * An SDK request handler that reaches the emulator in process, without the loopback socket (the local
   * runtime's own clients use it; see `in-process-transport.ts`). Counted and answered alike.
   */
  transport: InProcessTransport;
  /** Replaces the current faults; `setFaults({})` clears them. */
  setFaults(faults: KmsFaults): void;
  /**
   * Calls received per supported operation (`Sign`, `GenerateMac`, …) since the start or the last
   * {@link resetStats}, throttled attempts included: each SDK retry is a call. A fresh copy.
   */
  stats(): Record<string, number>;
  /** Sets every count of {@link stats} back to zero. */
  resetStats(): void;
  /** Stops the server (open connections included), waits for pending writes and releases the keys' lock. */
  close(): Promise<void>;
}

/** The region of the SigV4 credential scope (`Credential=<id>/<date>/<region>/kms/aws4_request`). */
function requestRegion(req: IncomingMessage): string {
  const match = /Credential=[^/,]+\/\d{8}\/([a-z0-9-]+)\/kms\//.exec(req.headers.authorization ?? '');
  return match?.[1] ?? DEFAULT_REGION;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(payload);
}

function sendFault(res: ServerResponse, fault: KmsFault): void {
  send(res, fault.status, { __type: fault.type, message: fault.message });
}

/**
 * Reads the body up to `MAX_BODY_BYTES`; beyond that answers 413 and drops the connection. Read by events
 * (`./read-body.ts`): an async iterator per request was a Sign's largest cost here after the signature.
 */
async function readKmsBody(req: IncomingMessage): Promise<Buffer> {
  try {
    return await readBody(req, MAX_BODY_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLarge) {
      throw new KmsFault('ValidationException', 'Request body too large.', 413);
    }
    throw error;
  }
}

function parseInput(body: Buffer): unknown {
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    throw new KmsFault('SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new KmsFault('SerializationException', 'The request body must be a JSON object.');
  }
  return input;
}

/**
 * Decides which calls to throttle: an accumulator adds `rate` per call and throttles whenever it reaches 1,
 * so exactly that fraction is throttled and in a fixed pattern, and runs are reproducible (a random draw
 * would now and then throttle one call on every retry and make retry tests flaky).
 */
class Throttle {
  private debt = 0;
  constructor(private readonly rate: number) {}

  next(): boolean {
    if (this.rate <= 0) return false;
    this.debt += this.rate;
    if (this.debt < 1 - 1e-9) return false;
    this.debt -= 1;
    return true;
  }
}

/**
 * Starts an in-process AWS KMS emulator speaking the JSON 1.1 protocol (`POST /` with
 * `X-Amz-Target: TrentService.<Operation>`), so `@aws-sdk/client-kms` talks to it unchanged through its
 * `endpoint` option. Request signatures are not checked; the SigV4 scope only supplies the region used
 * in new ARNs.
 *
 * Operations: CreateKey (ECC_NIST_P256/SIGN_VERIFY, HMAC_256/GENERATE_VERIFY_MAC,
 * SYMMETRIC_DEFAULT/ENCRYPT_DECRYPT), CreateAlias, ListAliases, DescribeKey, GetPublicKey, Sign and
 * Verify (RAW and DIGEST), GenerateMac, VerifyMac, Encrypt, Decrypt, GenerateDataKey,
 * ScheduleKeyDeletion, CancelKeyDeletion, DisableKey, EnableKey, TagResource, UntagResource,
 * ListResourceTags. Errors are HTTP 400 with an AWS `__type`, as KMS sends them. Key states are KMS's: a
 * disabled key answers every cryptographic operation (GetPublicKey included) `DisabledException`, one
 * pending deletion `KMSInvalidStateException` (and refuses aliases, tags and state changes but
 * `CancelKeyDeletion`, which leaves it disabled).
 *
 * @example
 * ```ts
 * const emulator = await startKmsEmulator({ dataDir: '.data' });
 * const kms = createKmsClient({ region: 'cn-north-1', endpoint: emulator.endpoint,
 *   credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
 * emulator.setFaults({ throttleRate: 0.3, latencyMs: 5 });
 * ```
 */
export async function startKmsEmulator(options: KmsEmulatorOptions): Promise<KmsEmulator> {
  const store = await KmsKeyStore.open(options.dataDir, options.owner);
  const operations = kmsOperations(store);
  let faults: Required<KmsFaults> = { throttleRate: 0, latencyMs: 0 };
  let throttle = new Throttle(0);
  let calls = new Map<string, number>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      throw new KmsFault('UnsupportedOperationException', 'The KMS JSON protocol uses POST.', 405);
    }
    const body = await readKmsBody(req);
    const target = req.headers['x-amz-target'];
    const name =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    const operation: Operation | undefined = operations.get(name);
    if (!operation) {
      throw new KmsFault('UnsupportedOperationException', `Operation ${String(target)} is not supported.`);
    }
    calls.set(name, (calls.get(name) ?? 0) + 1);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (throttle.next()) throw new KmsFault('ThrottlingException', 'Rate exceeded');
    const output = await operation(parseInput(body), { region: requestRegion(req), now: Date.now() });
    send(res, 200, output);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) return;
      if (error instanceof KmsFault) {
        if (error.status === 413) res.setHeader('connection', 'close');
        sendFault(res, error);
        if (error.status === 413) res.once('finish', () => req.destroy());
      } else {
        console.error('KMS emulator: internal error', error);
        sendFault(res, new KmsFault('KMSInternalException', 'Internal error in the KMS emulator.', 500));
      }
    });
  });
  server.keepAliveTimeout = 5_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await store.release();
    throw error;
  }
  const { address, port } = server.address() as AddressInfo;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    endpoint,
    transport: inProcessTransport(server),
    setFaults(next) {
      const throttleRate = next.throttleRate ?? 0;
      const latencyMs = next.latencyMs ?? 0;
      if (!(throttleRate >= 0 && throttleRate <= 1)) throw new RangeError('throttleRate must be within 0..1');
      if (!(latencyMs >= 0 && Number.isFinite(latencyMs))) throw new RangeError('latencyMs must be >= 0');
      faults = { throttleRate, latencyMs };
      throttle = new Throttle(throttleRate);
    },
    stats: () => Object.fromEntries(calls),
    resetStats() {
      calls = new Map();
    },
    async close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      await closed;
      await store.flushed();
      await store.release();
    },
  };
}

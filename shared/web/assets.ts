import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { header } from '../http/request.js';
import type { HttpEvent, HttpResult } from '../http/types.js';

/** The browser files the pages load (scripts, the stylesheet, the service worker), by file name. */
export interface AssetSource {
  /** The bytes of `name` (a bare file name such as `verifier.js`), or undefined when there is none. */
  get(name: string): Promise<Uint8Array | undefined>;
}

/** Asset names are bare file names: nothing that could climb out of the asset folder. */
export const assetName = /^[a-z0-9][a-z0-9-]*\.(?:js|css|svg|png|webmanifest|map)$/;

const contentTypes: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  webmanifest: 'application/manifest+json',
  map: 'application/json; charset=utf-8',
};

/**
 * Assets built into a folder beside the function's code (`web-assets/` in the Lambda bundle), read once
 * per container.
 */
export class DirectoryAssets implements AssetSource {
  readonly #cache = new Map<string, Promise<Uint8Array | undefined>>();

  constructor(private readonly dir: string) {}

  get(name: string): Promise<Uint8Array | undefined> {
    if (!assetName.test(name)) return Promise.resolve(undefined);
    let bytes = this.#cache.get(name);
    if (!bytes) {
      bytes = readFile(join(this.dir, name)).then(
        (b) => new Uint8Array(b),
        (error: NodeJS.ErrnoException) => {
          if (error.code === 'ENOENT') return undefined;
          throw error;
        },
      );
      this.#cache.set(name, bytes);
    }
    return bytes;
  }
}

/** Assets held in memory (the local runtime builds them at start). */
export class MemoryAssets implements AssetSource {
  constructor(private readonly files: () => Promise<ReadonlyMap<string, Uint8Array>>) {}

  async get(name: string): Promise<Uint8Array | undefined> {
    return assetName.test(name) ? (await this.files()).get(name) : undefined;
  }
}

/**
 * Serves one asset: revalidated on every use (`no-cache` with a strong ETag), so a deployment is seen at
 * once while unchanged files cost a 304. The service worker keeps its own copies for offline use.
 */
export function assetResponse(event: HttpEvent, name: string, bytes: Uint8Array): HttpResult {
  const etag = `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 22)}"`;
  const headers: Record<string, string> = {
    'content-type': contentTypes[name.split('.').pop() ?? ''] ?? 'application/octet-stream',
    'cache-control': 'no-cache',
    etag,
    'x-content-type-options': 'nosniff',
  };
  if (header(event, 'if-none-match') === etag) return { statusCode: 304, headers };
  return {
    statusCode: 200,
    headers,
    body: Buffer.from(bytes).toString('base64'),
    isBase64Encoded: true,
  };
}

/**
 * The service worker (`/sw.js`, scope `/verifier`): keeps the verifier page and its assets so that the
 * page opens with no network. Network first, always: the page and its assets change with each
 * deployment while this file does not, so a cache-first copy would never be replaced; the cache answers
 * only when the network fails or is too slow. Trust data is not its business: the page keeps that itself.
 *
 * @packageDocumentation
 */

/** The parts of the service worker globals used here (TypeScript's DOM library does not describe them). */
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}
interface WorkerScope {
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const worker = self as unknown as WorkerScope;

const cachePrefix = 'elicence-verifier-';
const cacheName = `${cachePrefix}v1`;
const page = '/verifier';
const precached = [page, '/assets/verifier.js', '/assets/app.css', '/assets/icon.svg'];
/** Past this, a slow network loses to the kept copy (when there is one). */
const networkPatience = 4000;

worker.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(cacheName);
      // `reload`: bypass the HTTP cache, so what is kept is what the server serves now.
      await cache.addAll(precached.map((path) => new Request(path, { cache: 'reload' })));
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith(cachePrefix) && name !== cacheName) await caches.delete(name);
      }
      await worker.clients.claim();
    })(),
  );
});

/** The kept copy of `request`: the page under any query (`?lang=en`) when that exact one is not kept. */
async function kept(request: Request, isPage: boolean): Promise<Response | undefined> {
  const cache = await caches.open(cacheName);
  return (await cache.match(request)) ?? (isPage ? cache.match(page, { ignoreSearch: true }) : undefined);
}

async function networkFirst(request: Request, isPage: boolean): Promise<Response> {
  const network = fetch(request).then(async (response) => {
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(request, response.clone());
    }
    return response;
  });
  // When the kept copy wins the race, a failing network must not surface as an unhandled rejection.
  network.catch(() => undefined);
  const patience = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), networkPatience));
  try {
    const fast = await Promise.race([network, patience]);
    if (fast) return fast;
    return (await kept(request, isPage)) ?? (await network);
  } catch (error) {
    const copy = await kept(request, isPage);
    if (copy) return copy;
    throw error;
  }
}

worker.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== location.origin) return;
  const isPage = url.pathname === page;
  // Everything else (trust list, status lists) goes straight to the network: the page judges its age.
  if (!isPage && !precached.includes(url.pathname)) return;
  event.respondWith(networkFirst(request, isPage));
});

// A module, so that the declarations above stay local to this file.
export {};

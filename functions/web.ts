import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as z from 'zod';
import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { webAssets } from './composition/factories.js';
import { NotFoundError } from '../shared/errors.js';
import type { HttpEvent, HttpResult } from '../shared/http/types.js';
import { assetResponse } from '../shared/web/assets.js';
import { htmlPage, renderPage } from '../shared/web/kit/layout.js';
import { landingBody, type DemoSignIn } from '../shared/web/pages/landing-page.js';
import { notFoundBody } from '../shared/web/pages/not-found-page.js';
import { routes } from './routes.js';
import { verifierBody, verifierScripts } from '../shared/web/pages/verifier-page.js';
import { webHandler, type PageContext } from '../shared/web/web-handler.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ webAssets });
const served = routesOf('web');

/** The landing page, the verifier page, the service worker and the browser assets: nothing personal. */
export const handler = webHandler(
  'home',
  async (event: HttpEvent, context: PageContext): Promise<HttpResult> => {
    return served.dispatch(event, {
      'GET /': async () =>
        htmlPage(
          200,
          renderPage({
            ...context,
            section: 'home',
            title: context.t('首页', 'Home'),
            body: landingBody(context.t, await demoSignIn()),
          }),
        ),
      'GET /verifier': () =>
        htmlPage(
          200,
          renderPage({
            ...context,
            section: 'verifier',
            title: context.t('扫码核验', 'Verify a licence'),
            body: verifierBody(context.t, context.lang),
            scripts: verifierScripts,
          }),
        ),
      'GET /sw.js': () => asset(event, 'sw.js', { 'service-worker-allowed': '/' }),
      'GET /assets/{file}': () => asset(event, event.pathParameters?.file ?? ''),
      'GET /{path+}': () => {
        if (!pageNavigation(event)) return gatewayNotFound();
        return htmlPage(
          404,
          renderPage({
            ...context,
            section: 'home',
            title: context.t('找不到此页面', 'Page not found'),
            body: notFoundBody(context.t),
          }),
        );
      },
    });
  },
  served.edge,
);

/** Functions whose routes are pages; every other function's first path segments are API paths. */
const pageFunctions = new Set(['web', 'wallet', 'console', 'demo-platform']);
const apiSegments = new Set(
  routes.filter((route) => !pageFunctions.has(route.function)).map((route) => route.path.split('/')[1] ?? ''),
);

/**
 * A person's browser opening an address (it accepts HTML), outside the API's paths: a program calling
 * `/licences/…` wrongly keeps getting JSON, whatever its Accept header says.
 */
function pageNavigation(event: HttpEvent): boolean {
  const accept = event.headers?.accept ?? event.headers?.Accept ?? '';
  const first = (event.rawPath ?? '/').split('/')[1] ?? '';
  return accept.includes('text/html') && !apiSegments.has(first);
}

/** What API Gateway answers for a path without a route, unchanged for programs. */
function gatewayNotFound(): HttpResult {
  return {
    statusCode: 404,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: 'Not Found' }),
  };
}

async function asset(event: HttpEvent, name: string, headers: Record<string, string> = {}) {
  const bytes = await dependencies().webAssets.get(name);
  if (!bytes) throw new NotFoundError(`No asset ${name}`, 'route_not_found');
  const result = assetResponse(event, name, bytes);
  return { ...result, headers: { ...result.headers, ...headers } };
}

const demoFile = z.object({
  citizen: z.object({ idNumber: z.string(), name: z.string(), password: z.string() }),
  entity: z.object({ name: z.string(), creditCode: z.string() }),
  clerk: z.object({ idNumber: z.string(), name: z.string(), password: z.string() }),
});

const demoSignIns = new Map<string, Promise<DemoSignIn | undefined>>();

/**
 * The demo parties, when this is the local runtime: it writes `credentials.json` into the data folder
 * before it answers any request. A deployed function has no such file, so nothing is shown there. Read
 * once per container (per data folder: tests run several runtimes in one process).
 */
function demoSignIn(): Promise<DemoSignIn | undefined> {
  const file = join(dependencies().config.dataDir, 'credentials.json');
  let found = demoSignIns.get(file);
  if (!found) {
    found = readFile(file, 'utf8')
      .then((text) => demoFile.parse(JSON.parse(text)))
      .catch(() => undefined);
    demoSignIns.set(file, found);
  }
  return found;
}

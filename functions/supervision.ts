import { composition } from './composition/dependencies.js';
import { routesOf } from './dispatch.js';
import { accessTokens, alerts, doc, dpopProofs, statistics } from './composition/factories.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { authenticateBearer } from '../shared/http/authenticate.js';
import { parseQuery } from '../shared/http/request.js';
import { json } from '../shared/http/response.js';
import type { HttpEvent } from '../shared/http/types.js';
import { alertsQuery, listAlerts } from '../shared/supervision/alert-rules.js';
import { readStatistics, statisticsQuery } from '../shared/supervision/statistics.js';

/** What this function's handler uses, built once per container. */
const dependencies = composition({ doc, accessTokens, dpopProofs, statistics, alerts });
const served = routesOf('supervision');

/**
 * The supervising office's API (电子监察, scope `supervision`): statistics per China-time day and the
 * alerts the rules raised, both kept by `supervision-events` from the audit trail. Nothing personal is
 * answered: counts, and alerts about licence, client and issuer ids.
 */
export const handler = apiHandler(async (event: HttpEvent) => {
  const deps = dependencies();
  await authenticateBearer(event, 'supervision', deps);
  return served.dispatch(event, {
    'GET /supervision/stats': async () =>
      json(200, await readStatistics(parseQuery(event, statisticsQuery), deps)),
    'GET /supervision/alerts': async () => json(200, await listAlerts(parseQuery(event, alertsQuery), deps)),
  });
}, served.edge);

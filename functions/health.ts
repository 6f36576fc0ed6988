import { routesOf } from './dispatch.js';
import { apiHandler } from '../shared/http/api-handler.js';
import { json } from '../shared/http/response.js';

/** `GET /healthz`: the function runs and its configuration parses. */
export const handler = apiHandler(async () => json(200, { status: 'ok' }), routesOf('health').edge);

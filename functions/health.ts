import { routesOf } from './dispatch.js';
import { apiHandler } from '../shared/http/api-handler.js';
import type { healthSchema } from '../shared/http/response.js';
import { json } from '../shared/http/response.js';
import type * as z from 'zod';

/** `GET /healthz`: the function runs and its configuration parses. */
export const handler = apiHandler(
  async () => json(200, { status: 'ok' } satisfies z.output<typeof healthSchema>),
  routesOf('health').edge,
);

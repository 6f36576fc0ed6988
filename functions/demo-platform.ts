import { NotFoundError } from '../shared/errors.js';
import { webHandler } from '../shared/web/web-handler.js';

export const handler = webHandler('home', async (event) => {
  throw new NotFoundError(`No page ${event.routeKey}`, 'route_not_found');
});

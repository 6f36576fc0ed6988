import type { RegistryEndpoint } from '../../config.js';
import type { CarrierRegistry, PopulationRegistry } from '../../identity/registry.js';
import { HttpCarrierRegistry } from './carrier-registry.js';
import { HttpPopulationRegistry } from './population-registry.js';
import { HttpNoticeSender } from './notice-sender.js';
import type { NoticeSender } from '../../sharing/withdrawal-notices.js';

/*
 * The composition root's way in to the registries over HTTP (REGISTRIES=http): each builder returns the port.
 */

export const httpPopulationRegistry = (endpoint: RegistryEndpoint, timeoutMs: number): PopulationRegistry =>
  new HttpPopulationRegistry(endpoint, timeoutMs);
export const httpCarrierRegistry = (endpoint: RegistryEndpoint, timeoutMs: number): CarrierRegistry =>
  new HttpCarrierRegistry(endpoint, timeoutMs);
/** Withdrawal notices to platforms' events endpoints, with the SSRF guard (`./notice-sender.ts`). */
export const httpNoticeSender = (options: { allowLoopback: boolean; timeoutMs: number }): NoticeSender =>
  new HttpNoticeSender(options);

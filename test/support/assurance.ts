import { buildDependencies } from '../../functions/composition/dependencies.js';
import { parseIdNumber } from '../../shared/identifiers/id-number.js';
import { personLookupKey } from '../../shared/identifiers/lookup-key.js';
import { proveInPerson } from '../../shared/identity/prove-in-person.js';
import type { LocalRuntime } from '../../infra/local/runtime.js';

/**
 * Raises the account of `idNumber` to level 3, as a check in person at a service counter would (the way
 * the seed makes the demo citizen level 3): reading licences needs it.
 */
export async function proveAccountInPerson(runtime: Pick<LocalRuntime, 'config'>, idNumber: string) {
  const deps = buildDependencies(runtime.config);
  const lookupKey = await personLookupKey(deps.lookupMac, parseIdNumber(idNumber, new Date()));
  return proveInPerson(lookupKey, { actor: 'test-counter-clerk' }, deps);
}

/**
 * The wallet's passkeys page script (`/assets/wallet-passkeys.js`): reveals 添加通行密钥 when the browser
 * has WebAuthn; on a click asks the wallet for registration options, lets the authenticator create a
 * discoverable credential (`@simplewebauthn/browser`), posts its response with the chosen name, and shows
 * the updated list. The wallet relays both calls to the holder API (`/me/passkeys`).
 *
 * @packageDocumentation
 */
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import { onPasskeyClick, postJson } from './passkey-button.js';

function start(section: HTMLElement): void {
  const button = section.querySelector<HTMLButtonElement>('#passkey-add');
  const nameInput = section.querySelector<HTMLInputElement>('#passkey-name');
  const problem = section.querySelector<HTMLElement>('#passkey-enrol-error');
  if (!button || !nameInput || !problem) return;
  if (!browserSupportsWebAuthn()) return;
  section.hidden = false;

  onPasskeyClick(section, button, problem, async () => {
    const options = await postJson('/wallet/passkeys/options', {});
    if (options.status === 401) return 'ended';
    if (!options.ok) return 'failed';
    const response = await startRegistration({ optionsJSON: await options.json() });
    const name = nameInput.value.trim();
    const enrolled = await postJson('/wallet/passkeys', { response, ...(name ? { name } : {}) });
    if (enrolled.status === 401) return 'ended';
    if (!enrolled.ok) return 'failed';
    window.location.assign('/wallet/passkeys?added=1');
    return undefined;
  });
}

const section = document.getElementById('passkey-enrol');
if (section) start(section);

/**
 * The wallet's passkeys page script (`/assets/wallet-passkeys.js`): reveals 添加通行密钥 when the browser
 * has WebAuthn; on a click asks the wallet for registration options, lets the authenticator create a
 * discoverable credential (`@simplewebauthn/browser`), posts its response with the chosen name, and shows
 * the updated list. The wallet relays both calls to the holder API (`/me/passkeys`).
 *
 * @packageDocumentation
 */
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';

function start(section: HTMLElement): void {
  const button = section.querySelector<HTMLButtonElement>('#passkey-add');
  const nameInput = section.querySelector<HTMLInputElement>('#passkey-name');
  const problem = section.querySelector<HTMLElement>('#passkey-enrol-error');
  if (!button || !nameInput || !problem) return;
  if (!browserSupportsWebAuthn()) return;
  section.hidden = false;

  const post = (path: string, body: unknown) =>
    fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  const fail = (key: 'failed' | 'cancelled' | 'ended') => {
    problem.textContent = section.dataset[key] ?? '';
    // An alert only while it says something: an empty one would be announced, or counted, for nothing.
    problem.setAttribute('role', 'alert');
    problem.hidden = false;
    button.disabled = false;
    button.removeAttribute('aria-busy');
  };

  button.addEventListener('click', () => {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    problem.hidden = true;
    void (async () => {
      try {
        const options = await post('/wallet/passkeys/options', {});
        if (options.status === 401) return fail('ended');
        if (!options.ok) return fail('failed');
        const response = await startRegistration({ optionsJSON: await options.json() });
        const name = nameInput.value.trim();
        const enrolled = await post('/wallet/passkeys', { response, ...(name ? { name } : {}) });
        if (enrolled.status === 401) return fail('ended');
        if (!enrolled.ok) return fail('failed');
        window.location.assign('/wallet/passkeys?added=1');
      } catch (error) {
        fail(error instanceof Error && error.name === 'NotAllowedError' ? 'cancelled' : 'failed');
      }
    })();
  });
}

const section = document.getElementById('passkey-enrol');
if (section) start(section);

/**
 * The wallet's passkeys page script (`/assets/wallet-passkeys.js`): reveals 添加通行密钥 when the browser
 * has WebAuthn; on a click asks the wallet for registration options, lets the authenticator create a
 * discoverable credential (`@simplewebauthn/browser`), posts its response with the chosen name and the
 * password typed again, and shows the updated list. The wallet relays both calls to the holder API
 * (`/me/passkeys`); a sign-in too old for the change (403 `fresh_sign_in_required`) goes to a fresh one,
 * and a reset's clean-up still owed (409 `cleanup_owed`) is told as such (`data-owed`): it clears by itself.
 *
 * @packageDocumentation
 */
import { browserSupportsWebAuthn, startRegistration } from '@simplewebauthn/browser';
import { onPasskeyClick, postJson } from './passkey-button.js';

function start(section: HTMLElement): void {
  const button = section.querySelector<HTMLButtonElement>('#passkey-add');
  const nameInput = section.querySelector<HTMLInputElement>('#passkey-name');
  const passwordInput = section.querySelector<HTMLInputElement>('#passkey-password');
  const problem = section.querySelector<HTMLElement>('#passkey-enrol-error');
  if (!button || !nameInput || !passwordInput || !problem) return;
  if (!browserSupportsWebAuthn()) return;
  section.hidden = false;

  /** The refusal's code, when the answer is a problem document. */
  const codeOf = async (answer: Response) =>
    ((await answer.json().catch(() => ({}))) as { code?: unknown }).code;
  const fresh = () => {
    window.location.assign(section.dataset.freshHref ?? '/wallet/passkeys');
    return undefined;
  };

  onPasskeyClick(section, button, problem, async () => {
    const password = passwordInput.value;
    if (!password) return 'password';
    const options = await postJson('/wallet/passkeys/options', {});
    if (options.status === 401) return 'ended';
    if (options.status === 403 && (await codeOf(options)) === 'fresh_sign_in_required') return fresh();
    // The last reset's clean-up is still owed (409 `cleanup_owed`): the reconciler finishes it shortly.
    if (options.status === 409 && (await codeOf(options)) === 'cleanup_owed') return 'owed';
    if (!options.ok) return 'failed';
    const response = await startRegistration({ optionsJSON: await options.json() });
    const name = nameInput.value.trim();
    const enrolled = await postJson('/wallet/passkeys', { response, password, ...(name ? { name } : {}) });
    if (enrolled.status === 401) return 'ended';
    if (enrolled.status === 429) return 'wrong';
    if (enrolled.status === 409 && (await codeOf(enrolled)) === 'cleanup_owed') return 'owed';
    if (enrolled.status === 403) {
      const code = await codeOf(enrolled);
      if (code === 'fresh_sign_in_required') return fresh();
      if (code === 'wrong_password') return 'wrong';
    }
    if (!enrolled.ok) return 'failed';
    window.location.assign('/wallet/passkeys?added=1');
    return undefined;
  });
}

const section = document.getElementById('passkey-enrol');
if (section) start(section);

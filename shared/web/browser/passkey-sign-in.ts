/**
 * The sign-in page's passkey button (`/assets/passkey-sign-in.js`): reveals the passkey section when the
 * browser has WebAuthn, and on a click asks the provider for options, lets the authenticator sign them
 * (`@simplewebauthn/browser`), posts the assertion, and goes where the answer says. The words it shows
 * come from the section's data attributes, in the page's language.
 *
 * @packageDocumentation
 */
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';
import { onPasskeyClick, postJson } from './passkey-button.js';

function start(section: HTMLElement): void {
  const button = section.querySelector<HTMLButtonElement>('#passkey-button');
  const problem = section.querySelector<HTMLElement>('#passkey-error');
  const uid = section.dataset.uid ?? '';
  if (!button || !problem || !/^[A-Za-z0-9_-]{1,64}$/.test(uid)) return;
  if (!browserSupportsWebAuthn()) return;
  section.hidden = false;

  const post = (step: string, body: unknown) => postJson(`/interaction/${uid}/${step}`, body);

  onPasskeyClick(section, button, problem, async () => {
    const options = await post('passkeyoptions', {});
    if (!options.ok) return 'failed';
    const assertion = await startAuthentication({ optionsJSON: await options.json() });
    const answer = await post('passkey', assertion);
    const body = (await answer.json().catch(() => undefined)) as { location?: unknown } | undefined;
    const next =
      typeof body?.location === 'string' ? new URL(body.location, window.location.href) : undefined;
    if (answer.ok && next?.origin === window.location.origin) {
      window.location.assign(next.href);
      return undefined;
    }
    return 'failed';
  });
}

const section = document.getElementById('passkey-sign-in');
if (section) start(section);

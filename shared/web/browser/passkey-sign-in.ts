/**
 * The sign-in page's passkey button (`/assets/passkey-sign-in.js`): reveals the passkey section when the
 * browser has WebAuthn, and on a click asks the provider for options, lets the authenticator sign them
 * (`@simplewebauthn/browser`), posts the assertion, and goes where the answer says. The words it shows
 * come from the section's data attributes, in the page's language.
 *
 * @packageDocumentation
 */
import { browserSupportsWebAuthn, startAuthentication } from '@simplewebauthn/browser';

function start(section: HTMLElement): void {
  const button = section.querySelector<HTMLButtonElement>('#passkey-button');
  const problem = section.querySelector<HTMLElement>('#passkey-error');
  const uid = section.dataset.uid ?? '';
  if (!button || !problem || !/^[A-Za-z0-9_-]{1,64}$/.test(uid)) return;
  if (!browserSupportsWebAuthn()) return;
  section.hidden = false;

  const post = (step: string, body: unknown) =>
    fetch(`/interaction/${uid}/${step}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  const fail = (key: 'failed' | 'cancelled') => {
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
        const options = await post('passkeyoptions', {});
        if (!options.ok) return fail('failed');
        const assertion = await startAuthentication({ optionsJSON: await options.json() });
        const answer = await post('passkey', assertion);
        const body = (await answer.json().catch(() => undefined)) as { location?: unknown } | undefined;
        const next =
          typeof body?.location === 'string' ? new URL(body.location, window.location.href) : undefined;
        if (answer.ok && next?.origin === window.location.origin) {
          window.location.assign(next.href);
          return;
        }
        fail('failed');
      } catch (error) {
        fail(error instanceof Error && error.name === 'NotAllowedError' ? 'cancelled' : 'failed');
      }
    })();
  });
}

const section = document.getElementById('passkey-sign-in');
if (section) start(section);

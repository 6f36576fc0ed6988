/**
 * What both passkey buttons share (the sign-in page's and the wallet's): a same-origin JSON POST, and a
 * button that is busy while a ceremony runs and, when it fails, shows the section's message for the
 * failure in the page's language (`data-failed`, `data-cancelled`, … on the section).
 */

/** POSTs `body` as JSON to a path of this origin, with its cookies. */
export function postJson(path: string, body: unknown): Promise<Response> {
  return fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify(body),
  });
}

/**
 * Runs `ceremony` on each click of `button`, the button busy meanwhile. The ceremony answers the key of
 * the message to show when it did not succeed (it navigates away when it did); a thrown error shows
 * `cancelled` when the person dismissed the authenticator, `failed` otherwise.
 */
export function onPasskeyClick<K extends string>(
  section: HTMLElement,
  button: HTMLButtonElement,
  problem: HTMLElement,
  ceremony: () => Promise<K | 'failed' | 'cancelled' | undefined>,
): void {
  const fail = (key: string) => {
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
        const outcome = await ceremony();
        if (outcome) fail(outcome);
      } catch (error) {
        fail(error instanceof Error && error.name === 'NotAllowedError' ? 'cancelled' : 'failed');
      }
    })();
  });
}

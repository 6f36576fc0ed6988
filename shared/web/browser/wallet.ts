/**
 * The wallet QR page's script (`/assets/wallet.js`): counts down to the presentation's expiry and
 * fetches a new QR code shortly before it (the lead time is the section's `data-refresh-lead`, read at
 * every tick), so the code on screen is always scannable. The countdown is measured from the server's
 * `expiresIn`, not from `expiresAt`, because a phone's clock may be minutes off. A screen reader hears
 * only coarse announcements (a minute left, refreshed, expired, failed), never every second.
 *
 * @packageDocumentation
 */
import { clockTime } from '../kit/china-time.js';
import { countdown, crossedMark, shouldRefresh } from './wallet-timer.js';

interface Refreshed {
  svg: string;
  expiresAt: string;
  expiresIn: number;
}

function isRefreshed(value: unknown): value is Refreshed {
  const v = value as Partial<Refreshed> | null;
  return (
    typeof v?.svg === 'string' &&
    v.svg.startsWith('<svg') &&
    typeof v.expiresAt === 'string' &&
    typeof v.expiresIn === 'number' &&
    Number.isFinite(v.expiresIn)
  );
}

function start(root: HTMLElement): void {
  const need = <T extends HTMLElement>(id: string): T => {
    const found = document.getElementById(id);
    if (!found) throw new Error(`The QR page lacks #${id}`);
    return found as T;
  };
  const figure = need<HTMLElement>('presentation-qr');
  const image = figure.querySelector('img');
  const counter = need<HTMLElement>('qr-countdown');
  const expiresAtText = need<HTMLTimeElement>('qr-expires-at');
  const announcer = need<HTMLElement>('qr-announce');
  const problem = need<HTMLElement>('qr-problem');
  const problemText = need<HTMLElement>('qr-problem-text');
  const reload = need<HTMLAnchorElement>('qr-reload');
  if (!image) throw new Error('The QR page lacks its image');

  const data = root.dataset;
  const words = (key: string, n?: number) => (data[key] ?? '').replace('{n}', String(n ?? ''));
  let disclose: string[] = [];
  try {
    const parsed: unknown = JSON.parse(data.disclose ?? '[]');
    if (Array.isArray(parsed)) disclose = parsed.filter((name): name is string => typeof name === 'string');
  } catch {
    disclose = [];
  }

  let deadline = Date.now() + Number(data.expiresIn ?? 0) * 1000;
  let lastRemaining = Number.POSITIVE_INFINITY;
  let lastAttempt = Number.NEGATIVE_INFINITY;
  let failures = 0;
  let busy = false;
  let stopped = false;
  let refreshes = 0;

  const say = (text: string) => {
    announcer.textContent = text;
  };
  const showProblem = (text: string) => {
    problem.hidden = false;
    problemText.textContent = text;
  };

  async function refresh(): Promise<void> {
    busy = true;
    lastAttempt = Date.now();
    try {
      const response = await fetch(data.refreshUrl ?? '', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ disclose }),
      });
      if (response.status === 401) {
        const body = (await response.json().catch(() => ({}))) as { code?: unknown };
        // An access token past its expiry is renewed by a sign-in the SSO session answers without a
        // form; a session that ended (signed out, revoked) is the person's to restart.
        if (body.code === 'session_expired' && data.signInUrl) {
          window.location.assign(data.signInUrl);
          return;
        }
        stopped = true;
        if (data.signInUrl) reload.href = data.signInUrl;
        showProblem(words('msgSignedOut'));
        return;
      }
      const body: unknown = await response.json();
      if (!response.ok || !isRefreshed(body)) throw new Error(`refresh answered ${response.status}`);
      image!.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(body.svg)}`;
      deadline = Date.now() + body.expiresIn * 1000;
      lastRemaining = Number.POSITIVE_INFINITY;
      expiresAtText.dateTime = body.expiresAt;
      expiresAtText.textContent = clockTime(body.expiresAt);
      figure.classList.remove('expired');
      problem.hidden = true;
      failures = 0;
      refreshes += 1;
      root.dataset.refreshes = String(refreshes);
      say(words('msgRefreshed'));
      tick();
    } catch {
      failures += 1;
      showProblem(words('msgFailed'));
    } finally {
      busy = false;
    }
  }

  function tick(): void {
    const remaining = (deadline - Date.now()) / 1000;
    counter.textContent = countdown(remaining);
    counter.dataset.seconds = String(Math.max(0, Math.ceil(remaining)));
    const mark = crossedMark(lastRemaining, remaining);
    if (remaining <= 0 && lastRemaining > 0) {
      figure.classList.add('expired');
      say(words('msgExpired'));
    } else if (mark === 60) {
      say(words('msgMinutes', 1));
    } else if (mark !== undefined) {
      say(words('msgSeconds', mark));
    }
    lastRemaining = remaining;
    if (stopped) return;
    const lead = Number(data.refreshLead ?? 15);
    if (
      shouldRefresh({
        remaining,
        lead: Number.isFinite(lead) ? lead : 15,
        sinceLastAttempt: (Date.now() - lastAttempt) / 1000,
        failures,
        busy,
      })
    ) {
      void refresh();
    }
  }

  tick();
  window.setInterval(tick, 500);
  // Timers sleep in background tabs; catch up as soon as the page is seen again.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') tick();
  });
}

/**
 * Keeps the screen on while the code is shown (a phone held out to a verifier dims, then locks, and the
 * code is gone mid-scan): a screen wake lock, asked for again each time the page is seen again (the
 * browser lets it go when the page is hidden). Where unsupported or refused (battery saver, no permission),
 * nothing is said: the screen merely dims as before.
 */
function keepScreenAwake(): void {
  if (!('wakeLock' in navigator)) return;
  const ask = () => {
    if (document.visibilityState !== 'visible') return;
    navigator.wakeLock.request('screen').catch(() => undefined);
  };
  ask();
  document.addEventListener('visibilitychange', ask);
}

const root = document.getElementById('wallet-qr');
if (root) {
  start(root);
  keepScreenAwake();
}

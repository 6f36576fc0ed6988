/**
 * The verifier page's script (`/assets/verifier.js`): reads a QR code from the camera, a photo or pasted
 * text, verifies it here in the browser with the `@elicence/verifier` package, and shows the verdict card.
 * Registers the service worker and keeps the trust data in `localStorage`, so the page keeps working
 * offline after one visit.
 *
 * @packageDocumentation
 */
import type { VerificationResult } from '@elicence/verifier';
import { cameraAvailable, scanWithCamera, type CameraScan } from './verifier-camera.js';
import { decodeImageFile } from './verifier-qr.js';
import { TrustData } from './verifier-trust.js';
import { lastValidDay } from '../../validity-dates.js';
import {
  dataFreshnessLine,
  fieldRows,
  formatTime,
  freshnessNote,
  licenceTypeName,
  message,
  pageLang,
  resultWords,
  codeKind,
  type MessageKey,
  type PageCatalogue,
  type PageLang,
  type VerdictContext,
} from './verifier-words.js';

const lang: PageLang = pageLang(document.documentElement.lang);
const say = (key: MessageKey) => message(key, lang);

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`The verifier page lacks #${id}`);
  return found as T;
}

function readCatalogue(root: HTMLElement): PageCatalogue {
  try {
    return JSON.parse(root.dataset.catalogue ?? '{}') as PageCatalogue;
  } catch {
    return {};
  }
}

/** `el('p', 'class', 'text')`: elements are built with `textContent`, so nothing scanned becomes markup. */
function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function definitionList(rows: Array<[string, string]>): HTMLDListElement {
  const list = el('dl', 'fields');
  for (const [term, value] of rows) {
    list.append(el('dt', undefined, term), el('dd', undefined, value));
  }
  return list;
}

/** Where a code came from: what "scan another" goes back to. */
type Source = 'camera' | 'photo' | 'paste' | 'link';

/** The continuous-scanning choice is kept on this device: a clerk at a queue sets it once. */
const continuousKey = 'elicence.verifier.continuous';

/**
 * In continuous scanning a verdict stays at least this long before another code replaces it, so that
 * each verdict's colour is seen even when two people hold up their codes at once.
 */
const holdVerdictMs = 1500;
/**
 * Continuous scanning checks the code on screen again once it has been held up this long (or once the
 * presentation it is has expired): a licence revoked, or a presentation expired, while its code stays in
 * view must not stay green (review R32 L1).
 */
const recheckSameMs = 5000;

/** The verdict card: a coloured band with icon and words, then what the licence says, then freshness. */
function renderVerdict(
  card: HTMLElement,
  result: VerificationResult,
  context: VerdictContext,
  catalogue: PageCatalogue,
): void {
  const words = resultWords(result, lang);
  // The heading that focus moves to once the verdict is shown, so a screen reader says it first.
  const head = el('h2', 'verdict-head');
  head.id = 'verdict-title';
  head.tabIndex = -1;
  head.append(el('span', 'verdict-icon', words.icon), el('span', 'verdict-title', words.title));
  head.firstElementChild?.setAttribute('aria-hidden', 'true');
  const body = el('div', 'verdict-body');
  body.append(el('p', 'verdict-advice', words.advice));
  // A printout is not a live presentation: said in a box of its own, before the licence's data.
  const kind = codeKind(result.format, lang);
  if (kind) {
    const box = el('div', `verdict-kind verdict-kind-${kind.kind}`);
    box.dataset.kind = kind.kind;
    box.append(el('p', 'verdict-kind-label', kind.label), el('p', 'verdict-kind-note', kind.note));
    body.append(box);
  }

  const rows: Array<[string, string]> = [];
  const { licence, issuer, presentation } = result;
  if (licence) {
    rows.push([say('licenceType'), licenceTypeName(licence.type, catalogue, lang)]);
    const kind = say(licence.holder.kind === 'person' ? 'personHolder' : 'entityHolder');
    rows.push([
      say('holder'),
      lang === 'en' ? `${licence.holder.name} (${kind})` : `${licence.holder.name}（${kind}）`,
    ]);
    rows.push([say('holderNumber'), licence.holder.masked]);
  }
  if (issuer) rows.push([say('issuer'), issuer.name]);
  if (licence) {
    const from = formatTime(licence.validFrom, lang, { dateOnly: true });
    // The last valid day, the day before `validUntil`'s 00:00 Beijing time (review R60 F1).
    const lastDay = lastValidDay(licence.validUntil);
    const until = lastDay
      ? formatTime(`${lastDay}T12:00:00+08:00`, lang, { dateOnly: true })
      : say('noExpiry');
    rows.push([say('validity'), `${from} – ${until}`]);
    rows.push([say('licenceId'), licence.id]);
  }
  if (presentation) rows.push([say('presentedAt'), formatTime(presentation.issuedAt, lang)]);
  // Status lists carry a bit per licence, not the date of a change: say so rather than leave it out.
  if (result.verdict === 'revoked') rows.push([say('revokedAt'), say('revokedAtUnknown')]);
  rows.push([say('checkedAt'), formatTime(result.checkedAt, lang)]);
  body.append(definitionList(rows));

  const fields = licence ? fieldRows(licence.type, licence.fields, catalogue, lang) : [];
  if (fields.length > 0) {
    body.append(el('h3', 'verdict-fields-title', say('fields')));
    body.append(definitionList(fields.map((row) => [row.label, row.value])));
  }

  const note = freshnessNote(result, context, lang);
  if (note) body.append(el('p', 'verdict-stale', note));

  card.className = `verdict verdict-${words.tone}`;
  card.dataset.verdict = result.verdict;
  card.replaceChildren(head, body);
}

function start(): void {
  const root = element<HTMLElement>('verifier');
  const catalogue = readCatalogue(root);
  const progress = element<HTMLParagraphElement>('verifier-progress');
  const card = element<HTMLElement>('verdict');
  const networkState = element<HTMLParagraphElement>('network-state');
  const freshness = element<HTMLParagraphElement>('data-freshness');
  const refreshButton = element<HTMLButtonElement>('data-refresh');
  const scanStart = element<HTMLButtonElement>('scan-start');
  const scanStop = element<HTMLButtonElement>('scan-stop');
  const camera = element<HTMLDivElement>('camera');
  const video = element<HTMLVideoElement>('camera-video');
  const fileInput = element<HTMLInputElement>('qr-file');
  const pasteForm = element<HTMLFormElement>('paste-form');
  const pasteText = element<HTMLTextAreaElement>('qr-text');
  const continuousBox = element<HTMLInputElement>('scan-continuous');

  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    storage = undefined;
  }
  const trust = new TrustData(location.origin, storage);
  continuousBox.checked = storage?.getItem(continuousKey) === 'on';
  continuousBox.addEventListener('change', () => {
    try {
      storage?.setItem(continuousKey, continuousBox.checked ? 'on' : 'off');
    } catch {
      // A full or refused storage only means the choice is not remembered.
    }
  });
  const loaded = trust.load();

  const showProgress = (text: string, kind: 'info' | 'error' = 'info') => {
    progress.textContent = text;
    progress.className = `verifier-progress ${text ? kind : ''}`.trim();
  };
  // Chromium can report `onLine` while requests fail (and the reverse): the last sync has the last word.
  let reachable = true;
  const showNetwork = () => {
    const online = navigator.onLine && reachable;
    networkState.textContent = say(online ? 'online' : 'offline');
    networkState.className = `verifier-network ${online ? 'online' : 'offline'}`;
  };
  const showFreshness = () => {
    freshness.textContent = dataFreshnessLine(trust.summary(), Date.now(), lang);
  };

  const clearVerdict = () => {
    card.replaceChildren();
    card.className = 'verdict';
    delete card.dataset.verdict;
  };

  /**
   * The full-width button under a verdict that goes straight back to where the code came from: the
   * camera (also after a verification link or a photo, where a camera exists), or the paste box.
   */
  const nextButton = (source: Source): HTMLButtonElement => {
    const toCamera = source !== 'paste' && (source === 'camera' || cameraAvailable());
    const button = el('button', 'verdict-next', say(toCamera ? 'scanAnother' : 'verifyAnother'));
    button.type = 'button';
    button.id = 'scan-another';
    button.addEventListener('click', () => {
      if (toCamera) {
        void startCamera();
        return;
      }
      clearVerdict();
      showProgress('');
      if (source === 'paste') {
        pasteText.value = '';
        pasteText.focus();
      } else {
        fileInput.focus();
      }
    });
    return button;
  };

  let busy = 0;
  /** Verifies `text` and shows the verdict; answers the result once it is shown. */
  const verify = async (text: string, source: Source): Promise<VerificationResult | undefined> => {
    const run = ++busy;
    clearVerdict();
    showProgress(say('verifying'));
    try {
      await loaded;
      const { result, context } = await trust.verify(text);
      if (run !== busy) return;
      reachable = !context.offline;
      showNetwork();
      showFreshness();
      if (!trust.ready) {
        showProgress(say(trust.expired ? 'trustListExpired' : 'noTrustData'), 'error');
        return undefined;
      }
      showProgress('');
      renderVerdict(card, result, context, catalogue);
      // While the camera keeps scanning, the next code is the way on: no button to tap.
      if (scan && source === 'camera') showProgress(say('scanningNext'));
      else card.append(nextButton(source));
      card.querySelector<HTMLElement>('#verdict-title')?.focus({ preventScroll: true });
      card.scrollIntoView({
        block: 'nearest',
        behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth',
      });
      return result;
    } catch {
      if (run === busy) showProgress(say('verifyFailed'), 'error');
      return undefined;
    }
  };

  // Paste.
  pasteForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = pasteText.value.trim();
    if (!text) {
      showProgress(say('emptyPaste'), 'error');
      pasteText.setAttribute('aria-invalid', 'true');
      pasteText.focus();
      return;
    }
    pasteText.removeAttribute('aria-invalid');
    void verify(text, 'paste');
  });
  pasteText.addEventListener('input', () => pasteText.removeAttribute('aria-invalid'));
  // A scanner gun (a keyboard wedge) types the code, then Enter: Enter verifies, Shift+Enter is a new line,
  // and an IME's Enter (choosing a word) stays the IME's (review R62-5). The submit trims what came before.
  pasteText.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    pasteForm.requestSubmit();
  });

  // Photo.
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    clearVerdict();
    showProgress(say('reading'));
    let text: string | undefined;
    try {
      text = await decodeImageFile(file);
    } catch {
      showProgress(say('imageUnreadable'), 'error');
      return;
    } finally {
      // The same photo chosen again must fire `change` again.
      fileInput.value = '';
    }
    if (!text) {
      showProgress(say('noQrInImage'), 'error');
      return;
    }
    await verify(text, 'photo');
  });

  // Camera.
  let scan: CameraScan | undefined;
  const cameraOff = () => {
    camera.hidden = true;
    scanStop.hidden = true;
    scanStart.hidden = false;
    root.classList.remove('camera-on');
  };
  /**
   * Scans with the camera. Once a code is read, the camera is released and the verdict shown with
   * "scan another"; with continuous scanning chosen, the camera stays on, a code other than the one on
   * screen replaces the verdict, and the same code still held up is checked again only after
   * {@link recheckSameMs}, or once the presentation it is has expired.
   */
  const startCamera = async () => {
    if (!cameraAvailable()) {
      showProgress(say('cameraUnsupported'), 'error');
      return;
    }
    scan?.stop();
    clearVerdict();
    camera.hidden = false;
    scanStart.hidden = true;
    scanStop.hidden = false;
    root.classList.add('camera-on');
    scanStop.focus();
    showProgress(say('scanning'));
    let onScreen: string | undefined;
    let shownAt = 0;
    /** When the code on screen, still held up, is checked again. */
    let recheckAt = 0;
    const current = scanWithCamera(video, {
      keepScanning: (text) => {
        if (!continuousBox.checked) return false;
        const now = Date.now();
        if (text === onScreen ? now >= recheckAt : now - shownAt >= holdVerdictMs) {
          onScreen = text;
          shownAt = now;
          recheckAt = now + recheckSameMs;
          void verify(text, 'camera').then((result) => {
            // A presentation lives minutes: once past its end it is checked again (and shown expired).
            const expiresAt = result?.presentation ? Date.parse(result.presentation.expiresAt) : NaN;
            if (onScreen === text && expiresAt > Date.now() && expiresAt < recheckAt) recheckAt = expiresAt;
          });
        }
        return true;
      },
    });
    scan = current;
    let text: string | undefined;
    try {
      text = await current.result;
    } catch {
      if (scan === current) {
        scan = undefined;
        cameraOff();
        scanStart.focus();
        showProgress(say('cameraDenied'), 'error');
      }
      return;
    }
    if (scan !== current) return;
    scan = undefined;
    cameraOff();
    if (text) {
      await verify(text, 'camera');
      return;
    }
    // Stopped by hand: a verdict from continuous scanning stays, with the way to scan again.
    if (card.dataset.verdict && !card.querySelector('#scan-another')) {
      card.append(nextButton('camera'));
      showProgress('');
    } else if (!card.dataset.verdict) {
      showProgress('');
    }
    scanStart.focus();
  };
  scanStart.addEventListener('click', () => void startCamera());
  scanStop.addEventListener('click', () => scan?.stop());

  // Trust data.
  refreshButton.addEventListener('click', async () => {
    refreshButton.disabled = true;
    freshness.textContent = say('refreshing');
    const outcome = await trust.refresh();
    refreshButton.disabled = false;
    reachable = outcome !== 'unreachable';
    showNetwork();
    showFreshness();
    if (outcome !== 'ok') showProgress(say('refreshFailed'), 'error');
    else if (progress.classList.contains('error')) showProgress('');
  });
  addEventListener('online', () => {
    void trust.refresh().then((outcome) => {
      reachable = outcome !== 'unreachable';
      showNetwork();
      showFreshness();
    });
  });
  addEventListener('offline', showNetwork);
  showNetwork();

  void loaded.then(async () => {
    showFreshness();
    if (navigator.onLine) {
      reachable = (await trust.refresh()) !== 'unreachable';
      showNetwork();
      showFreshness();
    } else {
      reachable = false;
    }
    // A verification link (`/verifier#<code>`) from a phone's camera app: verify what it carries.
    if (location.hash.length > 1) {
      const code = location.hash.slice(1);
      history.replaceState(null, '', location.pathname + location.search);
      let decoded = code;
      try {
        decoded = decodeURIComponent(code);
      } catch {
        // Left as it came: the verifier will call it malformed.
      }
      pasteText.value = decoded;
      await verify(decoded, 'link');
    }
    root.dataset.ready = 'true';
  });

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/sw.js', { scope: '/verifier' }).catch(() => {
      // Without a worker the page still verifies; it just will not open offline.
    });
  }
}

start();

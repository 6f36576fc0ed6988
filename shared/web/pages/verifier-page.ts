import { catalogueView, licenceTypes, lookupKeyFields } from '../../licence/catalogue.js';
import type { PageCatalogue } from '../browser/verifier-words.js';
import { html, type SafeHtml } from '../kit/html.js';
import type { Lang, Translate } from '../kit/i18n.js';

export const verifierScripts = ['verifier.js'] as const;

let catalogue: string | undefined;

/**
 * What the verifier script needs to name licence types and their fields, as JSON: the names in both
 * languages, the field titles of the catalogue (a masked field under the title of the number it masks),
 * and the lookup-key fields, which mean nothing to a person and are never shown. Carried in the page
 * rather than fetched, so that the service worker's cached page has it offline.
 *
 * @example
 * ```ts
 * JSON.parse(verifierCatalogue())['driving-licence'].labels.vehicleClass; // '准驾车型'
 * ```
 */
export function verifierCatalogue(): string {
  catalogue ??= JSON.stringify(
    Object.fromEntries(
      licenceTypes.map((type) => {
        const view = catalogueView().find((entry) => entry.code === type.code);
        // As licences return them: a masked number titled like its clear field, in both languages.
        const properties = (view?.licenceFields.properties ?? {}) as Record<
          string,
          { title?: unknown; 'x-title-en'?: unknown }
        >;
        const labels: Record<string, string> = {};
        const labelsEn: Record<string, string> = {};
        for (const [key, schema] of Object.entries(properties)) {
          if (typeof schema.title === 'string') labels[key] = schema.title;
          if (typeof schema['x-title-en'] === 'string') labelsEn[key] = schema['x-title-en'];
        }
        return [
          type.code,
          {
            name: { zh: type.name.zh, en: type.name.en },
            labels,
            labelsEn,
            hidden: [...lookupKeyFields(type)],
          },
        ];
      }),
    ) satisfies PageCatalogue,
  );
  return catalogue;
}

/**
 * `/verifier` (扫码核验): three ways to read a QR code (camera, photo, pasted text), the verdict card, and
 * the age of the saved trust data. The markup works as a form without the script's help only in that it
 * says the script is needed: verification happens in the browser, with the `elicence/verifier` library.
 *
 * @example
 * ```ts
 * renderPage({ ...context, section: 'verifier', body: verifierBody(t, lang), scripts: verifierScripts });
 * ```
 */
export function verifierBody(t: Translate, lang: Lang): SafeHtml {
  return html`<h1>${t('扫码核验', 'Verify a licence')}</h1>
    <p class="lead">
      ${t(
        '扫描、上传或粘贴电子证照二维码，在本机核验数字签名和证照状态。首次访问后，断网也能核验。',
        'Scan, upload or paste an e-licence QR code: its signature and status are checked on this device. After the first visit it works offline too.',
      )}
    </p>
    <noscript>
      <div class="notice error">${t('核验需要启用 JavaScript。', 'Verification needs JavaScript.')}</div>
    </noscript>
    <div id="verifier" class="verifier" data-lang="${lang}" data-catalogue="${verifierCatalogue()}">
      <div class="verifier-inputs">
        <section class="card verifier-way verifier-way-camera" aria-labelledby="way-camera">
          <h2 id="way-camera">${t('用摄像头扫描', 'Scan with the camera')}</h2>
          <p class="muted" id="camera-hint">
            ${t('使用后置摄像头；识别到二维码后自动停止。', 'Uses the rear camera and stops once a code is read.')}
          </p>
          <button type="button" id="scan-start" aria-describedby="camera-hint">${t('扫描', 'Scan')}</button>
          <button type="button" id="scan-stop" class="secondary" hidden>
            ${t('停止扫描', 'Stop scanning')}
          </button>
          <p class="verifier-continuous">
            <input type="checkbox" id="scan-continuous" aria-describedby="scan-continuous-hint" />
            <label for="scan-continuous">${t('连续扫描', 'Keep scanning')}</label>
            <span class="hint" id="scan-continuous-hint"
              >${t(
                '适合排队逐一核验：结果显示后摄像头不关闭，下一个二维码直接替换结果；同一个二维码不会重复核验。',
                'For a queue: the camera stays on after a result, and the next QR code replaces it; the same code is not checked twice.',
              )}</span
            >
          </p>
          <div id="camera" class="verifier-camera" hidden>
            <video id="camera-video" muted playsinline aria-label="${t('摄像头取景', 'Camera view')}"></video>
            <span class="verifier-frame" aria-hidden="true"></span>
          </div>
        </section>
        <section class="card verifier-way" aria-labelledby="way-photo">
          <h2 id="way-photo">${t('上传照片', 'Upload a photo')}</h2>
          <label for="qr-file">${t('上传二维码图片', 'Upload a photo of a QR code')}</label>
          <p class="hint" id="qr-file-hint">
            ${t('照片或截图均可，二维码需完整、清晰。', 'A photo or a screenshot, with the whole code sharp.')}
          </p>
          <input type="file" id="qr-file" accept="image/*" aria-describedby="qr-file-hint" />
        </section>
        <section class="card verifier-way" aria-labelledby="way-paste">
          <h2 id="way-paste">${t('粘贴内容', 'Paste the text')}</h2>
          <form id="paste-form" novalidate>
            <label for="qr-text">${t('粘贴二维码内容', 'Paste the QR text')}</label>
            <p class="hint" id="qr-text-hint">
              ${t(
                '扫码枪或其他应用读到的文字，或以 # 携带二维码内容的链接。按回车键核验（Shift+回车换行）。',
                'The text a scanner or another app read, or a link carrying the code after #. Enter verifies (Shift+Enter for a new line).',
              )}
            </p>
            <textarea
              id="qr-text"
              name="qr"
              rows="4"
              spellcheck="false"
              autocapitalize="off"
              autocomplete="off"
              aria-describedby="qr-text-hint"
            ></textarea>
            <button type="submit" id="paste-verify">${t('核验', 'Verify')}</button>
          </form>
        </section>
      </div>
      <div class="verifier-outcome">
        <p id="verifier-progress" class="verifier-progress" role="status" aria-live="polite"></p>
        <!-- Not a live region: the script moves focus to the verdict's heading, which reads it out once. -->
        <section id="verdict" class="verdict" aria-label="${t('核验结果', 'Verification result')}"></section>
        <section class="card verifier-data" aria-labelledby="data-title">
          <h2 id="data-title">${t('核验数据', 'Verification data')}</h2>
          <p id="network-state" class="verifier-network"></p>
          <p id="data-freshness">${t('正在读取已保存的数据…', 'Reading the saved data…')}</p>
          <button type="button" id="data-refresh" class="secondary">${t('更新数据', 'Refresh data')}</button>
          <details class="verifier-terms" id="verifier-terms">
            <summary>
              ${t('什么是信任列表和状态列表？', 'What are the trust list and the status lists?')}
            </summary>
            <dl>
              <dt>${t('信任列表', 'Trust list')}</dt>
              <dd>
                ${t(
                  '可信发证机关的名单，以及用来检查它们数字签名的公钥。不在名单上的机关签发的证照不会被认可。',
                  'The list of issuers that can be trusted, with the keys that check their digital signatures. A licence from an issuer not on it is not accepted.',
                )}
              </dd>
              <dt>${t('状态列表', 'Status lists')}</dt>
              <dd>
                ${t(
                  '发证机关公布的每张证照当前是否有效、暂停或吊销。本页保存一份副本，断网时也能核验，但副本可能不是最新的。副本过期后（状态列表两天，信任列表一周）不再使用，结果显示“无法确认：请联网更新”。',
                  'What each issuer publishes about whether each licence is in force, suspended or revoked. This page keeps a copy so it can verify offline, but the copy may not be the latest. Once a copy expires (status lists after two days, the trust list after a week) it is no longer used, and the result says “Cannot confirm: connect to refresh”.',
                )}
              </dd>
            </dl>
          </details>
        </section>
      </div>
    </div>`;
}

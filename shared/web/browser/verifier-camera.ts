/**
 * Scanning with the camera: the rear camera into a `<video>`, frames read a few times a second by the
 * platform detector or jsQR until a code is found, and the camera released as soon as it is not needed
 * (found, stopped, page hidden or left), so the camera light never stays on behind the user's back.
 *
 * @packageDocumentation
 */
import { decodePixels, pixelsOf, qrDetector } from './verifier-qr.js';

/** Frames are read about this often: enough to feel instant, little enough to spare a phone's battery. */
const frameInterval = 150;
/** Frames go to jsQR at most this wide: camera frames are large and the code fills much of them. */
const maxFrameSide = 800;

export interface CameraScan {
  /** Releases the camera; the scan's promise then resolves with undefined. */
  stop(): void;
  /** The QR text, or undefined when stopped first. Rejects when the camera cannot be opened. */
  result: Promise<string | undefined>;
}

export interface CameraScanOptions {
  /**
   * Called with each code read; `true` keeps the camera on and reading (continuous scanning: the
   * caller deals with the code itself), `false` ends the scan with that code. Without it, the first
   * code ends the scan.
   */
  keepScanning?: (text: string) => boolean;
}

/** Whether this browser can open a camera at all (a secure context with `getUserMedia`). */
export function cameraAvailable(): boolean {
  return typeof navigator.mediaDevices?.getUserMedia === 'function';
}

/**
 * Opens the rear camera into `video` and reads frames until a QR code is found (and, with
 * {@link CameraScanOptions.keepScanning}, not passed over) or {@link CameraScan.stop} is called.
 *
 * @example
 * ```ts
 * const scan = scanWithCamera(videoElement);
 * stopButton.onclick = () => scan.stop();
 * const text = await scan.result;
 * ```
 */
export function scanWithCamera(video: HTMLVideoElement, options: CameraScanOptions = {}): CameraScan {
  let stopped = false;
  let stream: MediaStream | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: (text: string | undefined) => void = () => undefined;

  const release = () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    for (const track of stream?.getTracks() ?? []) track.stop();
    stream = undefined;
    video.srcObject = null;
    removeEventListener('pagehide', onLeave);
    document.removeEventListener('visibilitychange', onHidden);
  };
  const onLeave = () => stop();
  const onHidden = () => {
    if (document.visibilityState === 'hidden') stop();
  };
  const stop = () => {
    if (stopped) return;
    release();
    finish(undefined);
  };

  const result = new Promise<string | undefined>((resolve, reject) => {
    finish = resolve;
    addEventListener('pagehide', onLeave);
    document.addEventListener('visibilitychange', onHidden);
    (async () => {
      const opened = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
      if (stopped) {
        for (const track of opened.getTracks()) track.stop();
        return;
      }
      stream = opened;
      video.srcObject = opened;
      video.muted = true;
      video.setAttribute('playsinline', '');
      await video.play();
      const platform = await qrDetector();
      const canvas = document.createElement('canvas');

      const readFrame = async (): Promise<string | undefined> => {
        if (video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) return undefined;
        if (platform) {
          const found = await platform.detect(video);
          return found[0]?.rawValue || undefined;
        }
        const scale = Math.min(1, maxFrameSide / Math.max(video.videoWidth, video.videoHeight));
        const width = Math.round(video.videoWidth * scale);
        const height = Math.round(video.videoHeight * scale);
        return decodePixels(pixelsOf(video, width, height, canvas));
      };
      const tick = async () => {
        if (stopped) return;
        let text: string | undefined;
        try {
          text = await readFrame();
        } catch {
          // One unreadable frame (the camera still warming up) is no reason to give up.
        }
        if (stopped) return;
        if (text && options.keepScanning?.(text)) text = undefined;
        if (stopped) return;
        if (text) {
          release();
          resolve(text);
          return;
        }
        timer = setTimeout(() => void tick(), frameInterval);
      };
      void tick();
    })().catch((error: unknown) => {
      release();
      reject(error);
    });
  });

  return { stop, result };
}

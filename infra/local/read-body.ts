import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {}

/** The request's body up to `limit` bytes (read by events: an async iterator per request cost more). */
export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.off('data', onData);
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    let ended = false;
    request.on('data', onData);
    request.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    request.once('error', reject);
    // A client gone before the end. 'close' follows every request, 'end' first: the error is made only
    // when it is one (an Error captures a stack trace, which every request paid here for nothing).
    request.once('close', () => {
      if (!ended) reject(new Error('request closed before its end'));
    });
  });
}

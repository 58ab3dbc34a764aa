import type { Readable } from 'node:stream';

/** A stream's bytes, or undefined as soon as they pass `limit` (the stream is then destroyed). */
export async function readLimited(stream: Readable, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      stream.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * A client's request body, or undefined as soon as it passes `limit`. The
 * rest is then read and dropped rather than the socket destroyed: a client
 * still sending would get a TCP reset instead of the error reply. Past
 * `discardLimit` bytes in all, the connection is cut after all.
 */
export function readRequestBody(stream: Readable, limit: number, discardLimit = 16 * limit): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (over) {
        if (size > discardLimit) stream.destroy();
        return;
      }
      if (size > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    // Once the answer is decided, a client that goes away is nobody's concern.
    stream.on('error', (err) => (over ? undefined : reject(err)));
    stream.once('close', () => (over || stream.readableEnded ? undefined : reject(new Error('the client closed the connection before its body ended'))));
  });
}

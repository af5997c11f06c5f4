/**
 * Streams a multipart/form-data request: text fields as they come, and the
 * first file part as an async iterable of chunks (never buffered whole).
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { InvalidArgument } from '../../errors/domain-error.js';

export interface MultipartFile {
  field: string;
  filename: string;
  stream: Readable;
}

/**
 * Resolves when the first file part starts (with the fields seen before it),
 * or when the form ends without a file (`file` undefined).
 */
export function readMultipart(
  req: IncomingMessage,
  limits: { fileSize: number; fields: number },
): Promise<{ fields: URLSearchParams; file: MultipartFile | undefined; done: Promise<URLSearchParams> }> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // fileSize + 1 so that an oversized file is seen as such by the consumer's own limit.
      bb = busboy({ headers: req.headers, limits: { fileSize: limits.fileSize + 1, fields: limits.fields, fieldSize: 64 * 1024, files: 1 } });
    } catch (err) {
      reject(new InvalidArgument(`not a multipart/form-data request: ${(err as Error).message}`, { reason: 'MALFORMED_MULTIPART' }));
      return;
    }
    const fields = new URLSearchParams(); // keeps repeated keys (setting=K=V ...)
    let settled = false;
    let resolveDone!: (f: URLSearchParams) => void;
    let rejectDone!: (e: unknown) => void;
    const done = new Promise<URLSearchParams>((res, rej) => ((resolveDone = res), (rejectDone = rej)));
    done.catch(() => undefined);
    bb.on('field', (name, value) => fields.append(name, value));
    bb.on('file', (field, stream, info) => {
      if (settled) {
        stream.resume();
        return;
      }
      settled = true;
      resolve({ fields: new URLSearchParams(fields), file: { field, filename: info.filename ?? '', stream }, done });
    });
    bb.on('close', () => {
      resolveDone(fields);
      if (!settled) {
        settled = true;
        resolve({ fields, file: undefined, done });
      }
    });
    bb.on('error', (err: Error) => {
      const e = new InvalidArgument(`malformed multipart body: ${err.message}`, { reason: 'MALFORMED_MULTIPART' });
      rejectDone(e);
      if (!settled) {
        settled = true;
        reject(e);
      }
    });
    req.pipe(bb);
  });
}

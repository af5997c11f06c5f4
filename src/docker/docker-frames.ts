/**
 * Docker's multiplexed stream (attach without a TTY): frames of an 8-byte header — stream
 * type (1 stdout, 2 stderr), three zero bytes, the payload size as a big-endian uint32 —
 * then the payload. Split here into one readable per stream, with backpressure.
 */
import { PassThrough, type Readable } from 'node:stream';

const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

export interface DemultiplexedStreams {
  readonly stdout: Readable;
  readonly stderr: Readable;
}

/** Reads `source` to its end; both outputs end (or are destroyed) with it. */
export function demultiplex(source: Readable): DemultiplexedStreams {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let buffered = Buffer.alloc(0);
  /** Payload bytes still due to the current frame, and where they go. */
  let remaining = 0;
  let target: PassThrough | undefined;

  const write = (out: PassThrough | undefined, bytes: Buffer) => {
    // A reader that falls behind pauses the socket, so a flood of items cannot fill memory.
    if (out && !out.write(bytes)) {
      source.pause();
      out.once('drain', () => source.resume());
    }
  };

  source.on('data', (chunk: Buffer) => {
    let data = buffered.length > 0 ? Buffer.concat([buffered, chunk]) : chunk;
    buffered = Buffer.alloc(0);
    while (data.length > 0) {
      if (remaining > 0) {
        const take = Math.min(remaining, data.length);
        write(target, data.subarray(0, take));
        remaining -= take;
        data = data.subarray(take);
        continue;
      }
      if (data.length < HEADER_BYTES) {
        buffered = Buffer.from(data); // a header split across chunks
        break;
      }
      const kind = data[0];
      // Stream 0 (stdin echoed back) and unknown kinds are skipped, not misread.
      target = kind === STDOUT ? stdout : kind === STDERR ? stderr : undefined;
      remaining = data.readUInt32BE(4);
      data = data.subarray(HEADER_BYTES);
    }
  });
  const finish = () => {
    stdout.end();
    stderr.end();
  };
  source.once('end', finish);
  source.once('close', finish);
  source.once('error', finish); // a reset connection ends the output like a normal close
  return { stdout, stderr };
}

/** Egg requirements: the install_requires of an egg, read from its EGG-INFO/requires.txt. */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { checkRequirement } from './build-once.js';

const REQUIRES = 'EGG-INFO/requires.txt';
const MAX_REQUIRES_BYTES = 1024 * 1024;

/** pip requirement specifiers for the egg's unconditional and marker-conditional requirements (not its named extras). */
export async function readEggRequirements(eggPath: string): Promise<string[]> {
  const text = await readEntry(eggPath, REQUIRES);
  return text === undefined ? [] : parseRequiresTxt(text);
}

/** What pip installs for a job: the egg's requirements, then the spider's extra ones (normalized), each once. */
export async function jobRequirements(eggPath: string, extra: readonly string[]): Promise<string[]> {
  const fromEgg = await readEggRequirements(eggPath);
  fromEgg.forEach(checkRequirement);
  return [...new Set([...fromEgg, ...extra])];
}

/**
 * setuptools' requires.txt: plain lines are install_requires; `[extra]` sections are extras
 * (not installed); `[:marker]` sections are requirements that apply under an environment
 * marker, given to pip as `req; marker` so it evaluates them.
 */
export function parseRequiresTxt(text: string): string[] {
  const out: string[] = [];
  let section: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      section = header[1]!.trim();
      continue;
    }
    if (section === undefined) {
      out.push(line);
      continue;
    }
    const colon = section.indexOf(':');
    if (colon !== 0) continue; // a named extra, with or without a marker
    const marker = section.slice(1).trim();
    const semicolon = line.indexOf(';');
    out.push(semicolon < 0 ? `${line}; ${marker}` : `${line.slice(0, semicolon).trim()}; (${line.slice(semicolon + 1).trim()}) and (${marker})`);
  }
  return out;
}

async function readEntry(zipPath: string, name: string): Promise<string | undefined> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false });
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName !== name) continue;
      if (entry.uncompressedSize > MAX_REQUIRES_BYTES) throw new Error(`${name} in the egg is larger than ${MAX_REQUIRES_BYTES} bytes`);
      const stream: Readable = await zip.openReadStreamPromise(entry);
      const chunks: Buffer[] = [];
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks).toString('utf8');
    }
    return undefined;
  } finally {
    zip.close();
  }
}

/**
 * Egg inspector: validates an uploaded project egg as an untrusted ZIP (size limits, zip
 * bombs, path traversal) and finds its Scrapy settings module, without running any Python.
 */
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { InvalidArgument } from '../../errors/domain-error.js';

export interface EggLimits {
  /** Most entries (files and directories) an egg may contain. */
  maxEntries: number;
  /** Most bytes all entries may inflate to, in total. */
  maxUncompressedBytes: number;
  /** Highest uncompressed/compressed ratio tolerated for big entries and for the whole egg. */
  maxCompressionRatio: number;
}

export const DEFAULT_EGG_LIMITS: Readonly<EggLimits> = Object.freeze({
  maxEntries: 10_000,
  maxUncompressedBytes: 1024 ** 3,
  maxCompressionRatio: 200,
});

export interface EggInfo {
  /** Module named by `[scrapy] settings = <module>` in EGG-INFO/entry_points.txt. */
  settingsModule: string;
  entries: number;
  uncompressedBytes: number;
}

/** Small entries legitimately compress very well (blank __init__ files, padding); only
 * ratios on entries (and eggs) above this size are treated as a zip-bomb signal. */
const RATIO_CHECK_MIN_BYTES = 1024 * 1024;
/** Real entry_points.txt files are a few hundred bytes. */
const MAX_ENTRY_POINTS_BYTES = 1024 * 1024;
const ENTRY_POINTS_PATH = 'EGG-INFO/entry_points.txt';
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

const NOT_ZIP_MESSAGE = 'egg is not a ZIP file (if using curl, use egg=@path not egg=path)';
const NO_ENTRY_POINT_MESSAGE =
  'egg has no scrapy entry point (EGG-INFO/entry_points.txt needs [scrapy] settings = <module>)';

/**
 * Checks the egg's structure from the central directory first (cheap), then inflates every
 * entry to prove its declared size is not a lie (Python's zipimport trusts the data, not
 * the header), aborting as soon as an entry outgrows its declaration.
 */
export async function inspectEgg(path: string, limits: EggLimits): Promise<EggInfo> {
  const zip = await openZip(path);
  try {
    const entries = await readCentralDirectory(zip, limits);
    let entryPoints: Buffer | undefined;
    for (const entry of entries) {
      const keep = entryName(entry) === ENTRY_POINTS_PATH;
      const data = await inflateEntry(zip, entry, keep);
      if (keep) entryPoints = data;
    }
    if (!entryPoints) throw noEntryPoint();
    return {
      settingsModule: settingsModuleFrom(entryPoints),
      entries: entries.length,
      uncompressedBytes: entries.reduce((sum, e) => sum + e.uncompressedSize, 0),
    };
  } finally {
    zip.close();
  }
}

async function openZip(path: string): Promise<ZipFile> {
  try {
    // decodeStrings: false so yauzl does not reject odd names with a generic error; we decode
    // and judge them ourselves. autoClose: false because entries are read after the listing.
    return await yauzl.openPromise(path, {
      lazyEntries: true,
      validateEntrySizes: true,
      decodeStrings: false,
      autoClose: false,
    });
  } catch (err) {
    if (isSystemError(err)) throw err; // ENOENT, EACCES...: our problem, not the uploader's
    throw new InvalidArgument(NOT_ZIP_MESSAGE, { reason: 'EGG_NOT_ZIP', field: 'egg', cause: err });
  }
}

async function readCentralDirectory(zip: ZipFile, limits: EggLimits): Promise<Entry[]> {
  if (zip.entryCount > limits.maxEntries) {
    throw tooLarge(`egg has ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
  }
  const entries: Entry[] = [];
  let uncompressed = 0;
  let compressed = 0;
  try {
    for await (const entry of zip.eachEntry()) {
      checkName(entry);
      uncompressed += entry.uncompressedSize;
      compressed += entry.compressedSize;
      if (uncompressed > limits.maxUncompressedBytes) {
        throw tooLarge(`egg inflates to more than the limit of ${limits.maxUncompressedBytes} bytes`);
      }
      if (isBomb(entry.uncompressedSize, entry.compressedSize, limits)) {
        throw tooLarge(
          `egg entry ${quote(entryName(entry))} has a compression ratio above ${limits.maxCompressionRatio} (zip bomb?)`,
        );
      }
      entries.push(entry);
    }
  } catch (err) {
    throw asCorrupt(err);
  }
  if (isBomb(uncompressed, compressed, limits)) {
    throw tooLarge(`egg has a compression ratio above ${limits.maxCompressionRatio} (zip bomb?)`);
  }
  return entries;
}

function isBomb(uncompressed: number, compressed: number, limits: EggLimits): boolean {
  return uncompressed > RATIO_CHECK_MIN_BYTES && uncompressed > compressed * limits.maxCompressionRatio;
}

/** Name as most tools see it (UTF-8 flag / Info-ZIP Unicode Path field honoured). */
function entryName(entry: Entry): string {
  return yauzl.getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
}

function checkName(entry: Entry): void {
  const name = entryName(entry);
  // Python's zipfile ignores the Unicode Path extra field and uses the raw bytes, so both
  // spellings are checked. The rules only involve ASCII, which every ZIP encoding shares.
  for (const candidate of [name, entry.fileNameRaw.toString('latin1')]) {
    const problem = nameProblem(candidate);
    if (problem) throw traversal(`egg entry ${quote(name)} ${problem}`);
  }
  if (((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK) {
    throw traversal(`egg entry ${quote(name)} is a symbolic link`);
  }
}

function nameProblem(name: string): string | undefined {
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'contains a ".." path segment';
  return undefined;
}

async function inflateEntry(zip: ZipFile, entry: Entry, keep: boolean): Promise<Buffer | undefined> {
  const name = entryName(entry);
  if (keep && entry.uncompressedSize > MAX_ENTRY_POINTS_BYTES) {
    throw tooLarge(`egg entry ${quote(name)} is larger than ${MAX_ENTRY_POINTS_BYTES} bytes`);
  }
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw asCorrupt(err, name);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      // yauzl's validateEntrySizes already errors first; this keeps us safe without it.
      if (size > entry.uncompressedSize) throw outgrew(name, entry.uncompressedSize);
      if (keep) chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    if (err instanceof InvalidArgument) throw err;
    if (err instanceof Error && /too many bytes/.test(err.message)) throw outgrew(name, entry.uncompressedSize);
    throw asCorrupt(err, name);
  }
  return keep ? Buffer.concat(chunks) : undefined;
}

/** Parses entry_points.txt (INI-like) and returns the `[scrapy] settings` module. */
function settingsModuleFrom(raw: Buffer): string {
  let section: string | undefined;
  let value: string | undefined;
  for (const rawLine of raw.toString('utf8').replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[\s*(.*?)\s*\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== 'scrapy' || eq < 0 || line.slice(0, eq).trim() !== 'settings') continue;
    value = line.slice(eq + 1).trim();
    break;
  }
  if (value === undefined) throw noEntryPoint();
  // "module:attr [extras]" names the module before the colon, as pkg_resources did.
  const module = value.split('[')[0]!.split(':')[0]!.trim();
  if (!/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/.test(module)) {
    throw new InvalidArgument(`egg's scrapy settings entry point ${quote(value)} is not a module name`, {
      reason: 'EGG_NO_SCRAPY_ENTRY_POINT',
      field: 'egg',
    });
  }
  return module;
}

function quote(name: string): string {
  const shown = name.length > 200 ? `${name.slice(0, 200)}...` : name;
  return JSON.stringify(shown); // escapes NUL and control characters
}

function tooLarge(message: string): InvalidArgument {
  return new InvalidArgument(message, { reason: 'EGG_TOO_LARGE', field: 'egg' });
}

function outgrew(name: string, declared: number): InvalidArgument {
  return tooLarge(`egg entry ${quote(name)} inflates to more than its declared ${declared} bytes (zip bomb?)`);
}

function traversal(message: string): InvalidArgument {
  return new InvalidArgument(message, { reason: 'EGG_PATH_TRAVERSAL', field: 'egg' });
}

function noEntryPoint(): InvalidArgument {
  return new InvalidArgument(NO_ENTRY_POINT_MESSAGE, { reason: 'EGG_NO_SCRAPY_ENTRY_POINT', field: 'egg' });
}

/** A ZIP that opened but whose structures or data are broken (yauzl's messages hold no paths). */
function asCorrupt(err: unknown, name?: string): unknown {
  if (err instanceof InvalidArgument || isSystemError(err)) return err;
  const detail = err instanceof Error ? err.message : String(err);
  const where = name === undefined ? 'egg' : `egg entry ${quote(name)}`;
  return new InvalidArgument(`${where} is corrupt: ${detail}`, { reason: 'EGG_CORRUPT', field: 'egg', cause: err });
}

/** fs failures (ENOENT, EACCES, EIO...) as opposed to format errors; zlib errors also have a
 * string `code` (Z_DATA_ERROR) but no `syscall`. */
function isSystemError(err: unknown): boolean {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

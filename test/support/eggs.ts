/**
 * Test helpers for eggs: build real eggs from the fixture Scrapy projects, and craft
 * (deliberately malformed) ZIP files byte by byte.
 */
import { cp, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { execa } from 'execa';

/** The Python with Scrapy and setuptools (the `python3` on PATH may lack them). */
export const TEST_PYTHON = process.env.SCRAPYDD_TEST_PYTHON ?? '/usr/bin/python3';

const FIXTURES = fileURLToPath(new URL('../fixtures/scrapy-projects/', import.meta.url));

const tempDirs: string[] = [];
process.once('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

const eggCache = new Map<string, Promise<string>>();

/**
 * Builds test/fixtures/scrapy-projects/<projectName> with `setup.py bdist_egg` in a temp
 * copy (bdist_egg litters build/ and *.egg-info) and returns the egg's absolute path.
 * Built at most once per test process.
 */
export function buildEgg(projectName: string): Promise<string> {
  let egg = eggCache.get(projectName);
  if (!egg) {
    egg = buildEggUncached(projectName);
    eggCache.set(projectName, egg);
  }
  return egg;
}

async function buildEggUncached(projectName: string): Promise<string> {
  const dir = await tempDir(`scrapydd-egg-${projectName}-`);
  await cp(join(FIXTURES, projectName), dir, {
    recursive: true,
    filter: (src) => !/(__pycache__|[\\/]build|[\\/]dist|\.egg-info)$/.test(src),
  });
  await execa(TEST_PYTHON, ['setup.py', '-q', 'bdist_egg'], { cwd: dir, stdin: 'ignore' });
  const eggs = (await readdir(join(dir, 'dist'))).filter((f) => f.endsWith('.egg'));
  if (eggs.length !== 1) throw new Error(`expected one egg for ${projectName}, got ${eggs.join(', ')}`);
  return join(dir, 'dist', eggs[0]!);
}

/** Writes bytes to a fresh temp file (removed when the process exits) and returns its path. */
export async function writeTempFile(data: Buffer | string, fileName = 'upload.egg'): Promise<string> {
  const path = join(await tempDir('scrapydd-zip-'), fileName);
  await writeFile(path, data);
  return path;
}

export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** Default 'deflated'. */
  method?: 'stored' | 'deflated';
  /** Lie: the uncompressed size written to both headers (default: the real size). */
  declaredUncompressedSize?: number;
  /** Bytes stored as the entry's data instead of compressing `data` (e.g. a truncated stream). */
  rawData?: Buffer;
  /** Unix st_mode in the external attributes, e.g. 0o120777 for a symlink. */
  unixMode?: number;
}

/** A minimal ZIP writer (no zip64, no data descriptors), enough to craft hostile eggs. */
export async function makeZip(entries: ZipEntrySpec[]): Promise<Buffer> {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    const method = e.method === 'stored' ? 0 : 8;
    const body = e.rawData ?? (method === 0 ? data : zlib.deflateRawSync(data));
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(data);
    const usize = e.declaredUncompressedSize ?? data.length;
    const flags = 0x0800; // names are UTF-8
    const dosTime = 0;
    const dosDate = (2020 - 1980) << 9 | 1 << 5 | 1;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(usize, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.unixMode === undefined ? 20 : (3 << 8) | 20, 4); // made by: MS-DOS / Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(usize, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(e.unixMode === undefined ? 0 : (e.unixMode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);

    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

let crcTable: Uint32Array | undefined;

function crc32(data: Buffer): number {
  const native = (zlib as { crc32?: (d: Buffer) => number }).crc32; // node >= 20.15
  if (native) return native(data);
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const byte of data) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

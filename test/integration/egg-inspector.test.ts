/**
 * Integration tests for the egg inspector: real eggs built with bdist_egg, and hand-crafted
 * hostile ZIPs (traversal, zip bombs, lying headers).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { execa } from 'execa';
import { DEFAULT_EGG_LIMITS, inspectEgg, type EggLimits } from '../../src/domain/projects/egg-inspector.js';
import { InvalidArgument } from '../../src/errors/domain-error.js';
import { TEST_PYTHON, buildEgg, makeZip, writeTempFile, type ZipEntrySpec } from '../support/eggs.js';

const ENTRY_POINTS = 'EGG-INFO/entry_points.txt';
const GOOD_ENTRY_POINTS = { name: ENTRY_POINTS, data: '[scrapy]\nsettings = demo.settings\n' };
const MIB = 1024 * 1024;
const GOOD_SIZE = Buffer.byteLength(GOOD_ENTRY_POINTS.data);

async function inspectZip(entries: ZipEntrySpec[], limits: EggLimits = DEFAULT_EGG_LIMITS) {
  return inspectEgg(await writeTempFile(await makeZip(entries)), limits);
}

/** Asserts an InvalidArgument on field 'egg' with exactly this reason and message. */
async function rejectsWith(promise: Promise<unknown>, reason: string, message: string | RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InvalidArgument, `expected InvalidArgument, got ${String(err)}`);
    assert.equal(err.reason, reason);
    assert.equal(err.field, 'egg');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('inspectEgg on eggs built by bdist_egg', () => {
  it('finds the settings module and counts exactly what Python zipfile sees', async () => {
    const egg = await buildEgg('quotes');
    const { stdout } = await execa(TEST_PYTHON, [
      '-c',
      'import sys, zipfile; i = zipfile.ZipFile(sys.argv[1]).infolist(); print(len(i), sum(e.file_size for e in i))',
      egg,
    ]);
    const [entries, bytes] = stdout.trim().split(' ').map(Number);
    const info = await inspectEgg(egg, DEFAULT_EGG_LIMITS);
    assert.deepEqual(info, { settingsModule: 'quotes.settings', entries, uncompressedBytes: bytes });
    assert.ok(info.entries >= 10, `quotes egg should hold its modules, has ${info.entries} entries`);
  });

  it('does not run project code (bad_settings still inspects fine)', async () => {
    const info = await inspectEgg(await buildEgg('bad_settings'), DEFAULT_EGG_LIMITS);
    assert.equal(info.settingsModule, 'bad_settings.settings');
  });

  it('rejects an egg built without the scrapy entry point', async () => {
    await rejectsWith(
      inspectEgg(await buildEgg('no_entry_point'), DEFAULT_EGG_LIMITS),
      'EGG_NO_SCRAPY_ENTRY_POINT',
      'egg has no scrapy entry point (EGG-INFO/entry_points.txt needs [scrapy] settings = <module>)',
    );
  });
});

describe('inspectEgg: not a ZIP', () => {
  for (const [label, content] of [
    ['a literal path (curl egg=path)', '/home/me/project.egg'],
    ['an empty upload', ''],
  ] as const) {
    it(`rejects ${label}`, async () => {
      await rejectsWith(
        inspectEgg(await writeTempFile(content), DEFAULT_EGG_LIMITS),
        'EGG_NOT_ZIP',
        'egg is not a ZIP file (if using curl, use egg=@path not egg=path)',
      );
    });
  }
});

describe('inspectEgg: entry_points.txt parsing', () => {
  const cases: [string, string, string][] = [
    ['comments, other sections and CRLF', '# c\r\n[console_scripts]\r\nsettings = nope\r\n\r\n[scrapy]\r\n; c\r\nsettings=a.b\r\n', 'a.b'],
    ['a BOM and a spaced section header', '\uFEFF[ scrapy ]\n  settings   =   pkg.settings  \n', 'pkg.settings'],
    ['an attribute and extras after the module', '[scrapy]\nsettings = pkg.conf:obj [extra]\n', 'pkg.conf'],
  ];
  for (const [label, text, module] of cases) {
    it(`handles ${label}`, async () => {
      const info = await inspectZip([{ name: ENTRY_POINTS, data: text }]);
      assert.equal(info.settingsModule, module);
    });
  }

  const missing = 'egg has no scrapy entry point (EGG-INFO/entry_points.txt needs [scrapy] settings = <module>)';
  it('rejects a missing entry_points.txt', async () => {
    await rejectsWith(inspectZip([{ name: 'demo/__init__.py', data: '' }]), 'EGG_NO_SCRAPY_ENTRY_POINT', missing);
  });
  it('rejects settings outside the [scrapy] section', async () => {
    await rejectsWith(
      inspectZip([{ name: ENTRY_POINTS, data: '[console_scripts]\nsettings = demo.settings\n[scrapy]\nother = x\n' }]),
      'EGG_NO_SCRAPY_ENTRY_POINT',
      missing,
    );
  });
  it('rejects a value that is not a module name', async () => {
    await rejectsWith(
      inspectZip([{ name: ENTRY_POINTS, data: '[scrapy]\nsettings = 1bad-module\n' }]),
      'EGG_NO_SCRAPY_ENTRY_POINT',
      `egg's scrapy settings entry point "1bad-module" is not a module name`,
    );
  });
});

describe('inspectEgg: path traversal', () => {
  const cases: [string, string][] = [
    ['../evil.py', 'contains a ".." path segment'],
    ['demo/../../evil.py', 'contains a ".." path segment'],
    ['/abs.py', 'is an absolute path'],
    ['C:/windows.py', 'is an absolute path'],
    ['demo\\..\\evil.py', 'contains a backslash'],
    ['demo/evil\0.py', 'contains a NUL character'],
  ];
  for (const [name, problem] of cases) {
    it(`rejects ${JSON.stringify(name)}`, async () => {
      await rejectsWith(
        inspectZip([GOOD_ENTRY_POINTS, { name, data: 'x = 1\n' }]),
        'EGG_PATH_TRAVERSAL',
        `egg entry ${JSON.stringify(name)} ${problem}`,
      );
    });
  }

  it('rejects symbolic links', async () => {
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'demo/link.py', data: '/etc/passwd', method: 'stored', unixMode: 0o120777 }]),
      'EGG_PATH_TRAVERSAL',
      'egg entry "demo/link.py" is a symbolic link',
    );
  });

  it('accepts regular files with Unix modes and dotted names', async () => {
    const info = await inspectZip([
      GOOD_ENTRY_POINTS,
      { name: 'demo/..hidden/x.py', data: 'x = 1\n', unixMode: 0o100644 },
      { name: 'demo/', data: '', method: 'stored', unixMode: 0o040755 },
    ]);
    assert.deepEqual(info, { settingsModule: 'demo.settings', entries: 3, uncompressedBytes: GOOD_SIZE + 6 });
  });
});

describe('inspectEgg: zip bombs and size limits', () => {
  const zeros = Buffer.alloc(50 * MIB);
  const bombStream = zlib.deflateRawSync(zeros);
  // Truncated on purpose: inflating it would fail as EGG_CORRUPT, so a ratio rejection proves
  // the verdict came from the central directory, before any inflating.
  const truncatedBomb = bombStream.subarray(0, Math.floor(bombStream.length / 2));

  it('rejects a 50 MiB entry of zeros by ratio without inflating it', async () => {
    await rejectsWith(
      inspectZip([{ name: ENTRY_POINTS, data: zeros, rawData: truncatedBomb }]),
      'EGG_TOO_LARGE',
      'egg entry "EGG-INFO/entry_points.txt" has a compression ratio above 200 (zip bomb?)',
    );
  });

  it('(control) the truncated bomb really is corrupt once the ratio check is lifted', async () => {
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'demo/zeros.bin', data: zeros, rawData: truncatedBomb }], {
        ...DEFAULT_EGG_LIMITS,
        maxCompressionRatio: Number.POSITIVE_INFINITY,
      }),
      'EGG_CORRUPT',
      /^egg entry "demo\/zeros\.bin" is corrupt: /,
    );
  });

  it('rejects entry_points.txt that inflates past its declared size', async () => {
    const data = `[scrapy]\nsettings = demo.settings\n${'#'.repeat(5 * MIB)}\n`;
    await rejectsWith(
      inspectZip([{ name: ENTRY_POINTS, data, declaredUncompressedSize: 40 }]),
      'EGG_TOO_LARGE',
      'egg entry "EGG-INFO/entry_points.txt" inflates to more than its declared 40 bytes (zip bomb?)',
    );
  });

  it('rejects any other entry that inflates past its declared size', async () => {
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'demo/big.py', data: zeros, declaredUncompressedSize: 100 }]),
      'EGG_TOO_LARGE',
      'egg entry "demo/big.py" inflates to more than its declared 100 bytes (zip bomb?)',
    );
  });

  it('rejects an egg whose declared sizes exceed the total limit', async () => {
    const limits = { ...DEFAULT_EGG_LIMITS, maxUncompressedBytes: 1000 };
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'a.py', data: 'a'.repeat(600) }, { name: 'b.py', data: 'b'.repeat(600) }], limits),
      'EGG_TOO_LARGE',
      'egg inflates to more than the limit of 1000 bytes',
    );
  });

  it('rejects a declared size lie above the total limit without reading data', async () => {
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'a.py', data: 'x', declaredUncompressedSize: 0xfffffffe }]),
      'EGG_TOO_LARGE',
      `egg inflates to more than the limit of ${1024 ** 3} bytes`,
    );
  });

  it('rejects too many entries', async () => {
    const limits = { ...DEFAULT_EGG_LIMITS, maxEntries: 2 };
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, { name: 'a.py', data: '' }, { name: 'b.py', data: '' }], limits),
      'EGG_TOO_LARGE',
      'egg has 3 entries, more than the limit of 2',
    );
  });

  it('rejects an egg of many small, extremely compressed entries', async () => {
    const half = Buffer.alloc(MIB / 2);
    await rejectsWith(
      inspectZip([GOOD_ENTRY_POINTS, ...['a', 'b', 'c'].map((n) => ({ name: `demo/${n}.bin`, data: half }))]),
      'EGG_TOO_LARGE',
      'egg has a compression ratio above 200 (zip bomb?)',
    );
  });

  it('accepts a small, extremely compressed entry', async () => {
    const info = await inspectZip([GOOD_ENTRY_POINTS, { name: 'demo/blank.bin', data: Buffer.alloc(100 * 1024) }]);
    assert.deepEqual(info, { settingsModule: 'demo.settings', entries: 2, uncompressedBytes: GOOD_SIZE + 100 * 1024 });
  });

  it('reports undecodable entry data as corrupt', async () => {
    await rejectsWith(
      inspectZip([{ ...GOOD_ENTRY_POINTS, rawData: Buffer.from([0xff, 0xff, 0xff, 0xff]) }]),
      'EGG_CORRUPT',
      /^egg entry "EGG-INFO\/entry_points.txt" is corrupt: /,
    );
  });
});

/** Wheels for requirement tests: tiny pure-Python wheels in a local directory, so pip installs without an index. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeZip } from './eggs.js';

/** Writes `<dir>/<name>-1.0-py3-none-any.whl`: one module `name` with VALUE = value. */
export async function writeWheel(dir: string, name: string, value: string): Promise<void> {
  const info = `${name}-1.0.dist-info`;
  const files: Record<string, string> = {
    [`${name}/__init__.py`]: `VALUE = ${JSON.stringify(value)}\n`,
    [`${info}/METADATA`]: `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`,
    [`${info}/WHEEL`]: 'Wheel-Version: 1.0\nGenerator: scrapydd-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
  };
  files[`${info}/RECORD`] = [...Object.keys(files), `${info}/RECORD`].map((f) => `${f},,\n`).join('');
  const zip = await makeZip(Object.entries(files).map(([entry, data]) => ({ name: entry, data })));
  await writeFile(join(dir, `${name}-1.0-py3-none-any.whl`), zip);
}

/** Spider listing tests (any runner): crafted eggs, and the domain error a listing must fail with. */
import assert from 'node:assert/strict';
import { DomainError, FailedPrecondition, InvalidArgument } from '../../src/errors/domain-error.js';
import { makeZip, writeTempFile, type ZipEntrySpec } from './eggs.js';

export const SPIDER = 'import scrapy\n\nclass One(scrapy.Spider):\n    name = "one"\n';

/** A tiny egg made in-test: package `demo` with the given settings and one spider module. */
export async function craftedEgg(settings: string, spiderModule = SPIDER): Promise<string> {
  const entries: ZipEntrySpec[] = [
    { name: 'EGG-INFO/entry_points.txt', data: '[scrapy]\nsettings = demo.settings\n' },
    { name: 'demo/__init__.py', data: '' },
    { name: 'demo/settings.py', data: `SPIDER_MODULES = ["demo.spiders"]\n${settings}\n` },
    { name: 'demo/spiders/__init__.py', data: '' },
    { name: 'demo/spiders/one.py', data: spiderModule },
  ];
  return writeTempFile(await makeZip(entries), 'demo-1.0-py3.11.egg');
}

/** `promise` rejects with a `type` error of `reason` and `message` (egg errors name the field `egg`). */
export async function rejectsWith(
  promise: Promise<unknown>,
  type: typeof InvalidArgument | typeof FailedPrecondition,
  reason: string,
  message: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.equal((err as DomainError).reason, reason);
    assert.equal((err as DomainError).field, type === InvalidArgument ? 'egg' : undefined);
    if (typeof message === 'string') assert.equal((err as Error).message, message);
    else assert.match((err as Error).message, message);
    return true;
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import { SnowflakeGenerator, decodeSnowflake, EPOCH_MS } from '../../src/ids/snowflake.js';

describe('snowflake ids', () => {
  it('makes 1,000,000 ids with no duplicate, strictly increasing', () => {
    const gen = new SnowflakeGenerator(7);
    let last = -1n;
    const seen = new Set<bigint>();
    for (let i = 0; i < 1_000_000; i++) {
      const id = gen.nextBigInt();
      assert.ok(id > last, `id ${i} (${id}) is not above ${last}`);
      last = id;
      seen.add(id);
    }
    assert.equal(seen.size, 1_000_000);
  });

  it('never repeats when more than 4096 ids fall in one millisecond', () => {
    const gen = new SnowflakeGenerator(1, () => EPOCH_MS + 1000);
    const ids = Array.from({ length: 10_000 }, () => gen.next());
    assert.equal(new Set(ids).size, 10_000);
    assert.deepEqual(decodeSnowflake(ids[4096]!), { timeMs: EPOCH_MS + 1001, workerId: 1, sequence: 0 });
  });

  it('keeps increasing when the clock steps back', () => {
    let now = EPOCH_MS + 5000;
    const gen = new SnowflakeGenerator(3, () => now);
    const a = gen.nextBigInt();
    now -= 2000;
    const b = gen.nextBigInt();
    assert.ok(b > a);
  });

  it('keeps worker ids 0 and 1023 distinct (snowflake-id maps 0 to 1 and 1023 to 0)', () => {
    const t = () => EPOCH_MS + 42;
    assert.equal(decodeSnowflake(new SnowflakeGenerator(0, t).next()).workerId, 0);
    assert.equal(decodeSnowflake(new SnowflakeGenerator(1023, t).next()).workerId, 1023);
    assert.throws(() => new SnowflakeGenerator(1024), /0\.\.1023/);
  });

  it('lays ids out as the snowflake-id package does', () => {
    const require = createRequire(import.meta.url);
    const Snowflake = require('snowflake-id').default as new (o: { mid: number; offset: number }) => { generate(): string };
    const theirs = BigInt(new Snowflake({ mid: 5, offset: EPOCH_MS }).generate());
    const ours = BigInt(new SnowflakeGenerator(5).next());
    const d1 = decodeSnowflake(theirs);
    const d2 = decodeSnowflake(ours);
    assert.equal(d1.workerId, 5);
    assert.ok(Math.abs(d1.timeMs - d2.timeMs) < 1000);
  });
});

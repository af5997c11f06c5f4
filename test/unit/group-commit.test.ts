import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GroupCommit } from '../../src/storage/group-commit.js';

describe('GroupCommit', () => {
  it('writes an item alone at once and what arrives meanwhile as one batch, in order', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const group = new GroupCommit<number, string>(async (items) => {
      batches.push(items);
      if (batches.length === 1) await gate;
      return items.map((i) => `r${i}`);
    });
    const first = group.submit(1);
    await new Promise((r) => setImmediate(r)); // the first batch is being written
    const rest = [2, 3, 4].map((i) => group.submit(i));
    assert.equal(group.backlog, 3);
    release();
    assert.deepEqual(await Promise.all([first, ...rest]), ['r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(batches, [[1], [2, 3, 4]]);
  });

  it('submissions in the same turn share a batch; maxBatch splits a long queue', async () => {
    const batches: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => (batches.push(items), items), 2);
    assert.deepEqual(await Promise.all([1, 2, 3].map((i) => group.submit(i))), [1, 2, 3]);
    assert.deepEqual(batches, [[1, 2], [3]]);
  });

  it('retries the items of a failed batch one by one, so a bad item fails only its caller', async () => {
    const calls: number[][] = [];
    const group = new GroupCommit<number, number>(async (items) => {
      calls.push(items);
      if (items.includes(2)) throw new Error(`bad item in ${items.join(',')}`);
      return items.map((i) => i * 10);
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => group.submit(i)));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)), [10, 'bad item in 2', 30]);
    assert.deepEqual(calls, [[1, 2, 3], [1], [2], [3]]);
  });
});

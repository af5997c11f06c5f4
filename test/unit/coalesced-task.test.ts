import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescedTask } from '../../src/storage/coalesced-task.js';

describe('CoalescedTask', () => {
  it('runs the first request at once and serves a burst with one more run after the interval', async () => {
    const runs: { at: number; keys: string[] }[] = [];
    const t0 = Date.now();
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const task = new CoalescedTask<string>(100, async (keys) => {
      runs.push({ at: Date.now() - t0, keys });
      if (runs.length === 2) done();
    });
    task.request('a');
    for (const k of ['b', 'c', 'b']) task.request(k);
    assert.equal(runs.length, 1, 'the first request runs at once');
    assert.deepEqual(runs[0]!.keys, ['a']);
    const keepAlive = setTimeout(() => undefined, 5000); // the task's own wait does not keep a process alive
    await finished;
    clearTimeout(keepAlive);
    assert.deepEqual(runs[1]!.keys.sort(), ['b', 'c'], 'the burst is served once, keys deduplicated');
    assert.ok(runs[1]!.at >= 95, `the second run waits out the interval (ran at ${runs[1]!.at} ms)`);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HeartbeatReconciler } from '../../src/server/services/heartbeat-reconciler.js';

describe('heartbeat reconciler', () => {
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, tick: (ms: number) => (t += ms) };
  };

  it('gives up a job missing from the heartbeats for three intervals, not before', () => {
    const c = clock();
    const r = new HeartbeatReconciler(1000, c.now);
    const owned = new Set(['a', 'b']);
    assert.deepEqual(r.update(owned, new Set(['a'])), [], 'first miss');
    for (const ms of [1000, 1000]) {
      c.tick(ms);
      assert.deepEqual(r.update(owned, new Set(['a'])), []);
    }
    c.tick(1000);
    assert.deepEqual(r.update(owned, new Set(['a'])), ['b'], 'missing for 3 s');
  });

  it('starts over when the job shows up again, and forgets jobs the session no longer owns', () => {
    const c = clock();
    const r = new HeartbeatReconciler(1000, c.now);
    r.update(['a'], new Set());
    c.tick(2000);
    assert.deepEqual(r.update(['a'], new Set(['a'])), [], 'listed again: the count restarts');
    c.tick(1000);
    r.update(['a'], new Set());
    c.tick(2500);
    assert.deepEqual(r.update(['a'], new Set()), [], 'missing only 2.5 s this time');
    // 'a' ended (no longer owned), then the same key comes back owned: a fresh count.
    r.update([], new Set());
    c.tick(5000);
    assert.deepEqual(r.update(['a'], new Set()), []);
  });

  it('needs two heartbeats whatever the time: one late heartbeat is not enough', () => {
    const c = clock();
    const r = new HeartbeatReconciler(1000, c.now);
    c.tick(60_000);
    assert.deepEqual(r.update(['a'], new Set()), [], 'the first heartbeat after a long pause');
    c.tick(1);
    assert.deepEqual(r.update(['a'], new Set()), []);
    c.tick(3000);
    assert.deepEqual(r.update(['a'], new Set()), ['a']);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCron } from '../../src/domain/triggers/cron-expression.js';
import { nextFireTime } from '../../src/domain/triggers/cron-schedule.js';

/** The next `n` fire times after `from`, as ISO strings. */
function fires(cron: string, zone: string, from: string, n: number): string[] {
  const c = parseCron(cron);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    t = nextFireTime(c, zone, t)!;
    out.push(t.toISOString().replace('.000Z', 'Z'));
  }
  return out;
}

describe('cron fire times', () => {
  it('fires strictly after the given instant, in UTC', () => {
    assert.deepEqual(fires('*/1 * * * *', 'UTC', '2025-06-01T10:00:00Z', 2), ['2025-06-01T10:01:00Z', '2025-06-01T10:02:00Z']);
    assert.deepEqual(fires('*/1 * * * *', 'UTC', '2025-06-01T10:00:00.001Z', 1), ['2025-06-01T10:01:00Z']);
    assert.deepEqual(fires('@hourly', 'UTC', '2025-12-31T23:30:00Z', 2), ['2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z']);
    assert.deepEqual(fires('@yearly', 'UTC', '2025-06-01T00:00:00Z', 1), ['2026-01-01T00:00:00Z']);
  });

  it('reads local time in the zone, including half-hour offsets (Asia/Kolkata, +05:30)', () => {
    assert.deepEqual(fires('0 9 * * *', 'Asia/Kolkata', '2025-06-01T00:00:00Z', 2), ['2025-06-01T03:30:00Z', '2025-06-02T03:30:00Z']);
    assert.deepEqual(fires('*/1 * * * *', 'Asia/Kolkata', '2025-06-01T00:00:30Z', 2), ['2025-06-01T00:01:00Z', '2025-06-01T00:02:00Z']);
    // Monday 09:00 in Kolkata is Monday 03:30 UTC; 2025-06-02 is a Monday
    assert.deepEqual(fires('0 9 * * mon', 'Asia/Kolkata', '2025-06-01T00:00:00Z', 2), ['2025-06-02T03:30:00Z', '2025-06-09T03:30:00Z']);
    // midnight in Kolkata is the previous day in UTC
    assert.deepEqual(fires('@daily', 'Asia/Kolkata', '2025-06-01T00:00:00Z', 1), ['2025-06-01T18:30:00Z']);
    assert.deepEqual(fires('0 0 1 * *', 'America/New_York', '2025-01-15T00:00:00Z', 1), ['2025-02-01T05:00:00Z']);
  });

  it('applies month and day rules, including the OR of both day fields', () => {
    // 13th or a Friday, June 2025: Fri 6th, Fri 13th (once), Fri 20th
    assert.deepEqual(fires('0 12 13 * fri', 'UTC', '2025-06-05T00:00:00Z', 3), ['2025-06-06T12:00:00Z', '2025-06-13T12:00:00Z', '2025-06-20T12:00:00Z']);
    assert.deepEqual(fires('0 0 31 * *', 'UTC', '2025-04-01T00:00:00Z', 2), ['2025-05-31T00:00:00Z', '2025-07-31T00:00:00Z']);
    assert.deepEqual(fires('0 0 29 2 *', 'UTC', '2025-01-01T00:00:00Z', 2), ['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
    assert.deepEqual(fires('0 0 * feb-mar sun', 'UTC', '2025-01-01T00:00:00Z', 1), ['2025-02-02T00:00:00Z']);
    assert.equal(nextFireTime(parseCron('0 0 30 2 *'), 'UTC', new Date('2025-01-01T00:00:00Z')), undefined);
  });

  describe('spring forward (America/New_York, 2025-03-09 02:00 EST → 03:00 EDT)', () => {
    it('a daily fire time inside the gap runs once, at the first instant after it', () => {
      assert.deepEqual(fires('30 2 * * *', 'America/New_York', '2025-03-08T12:00:00Z', 3), [
        '2025-03-09T07:00:00Z', // 03:00 EDT
        '2025-03-10T06:30:00Z',
        '2025-03-11T06:30:00Z',
      ]);
    });

    it('an every-quarter-hour schedule has nothing in the gap and keeps real time', () => {
      assert.deepEqual(fires('*/15 * * * *', 'America/New_York', '2025-03-09T06:30:00Z', 4), [
        '2025-03-09T06:45:00Z', // 01:45 EST
        '2025-03-09T07:00:00Z', // 03:00 EDT
        '2025-03-09T07:15:00Z',
        '2025-03-09T07:30:00Z',
      ]);
    });
  });

  describe('fall back (America/New_York, 2025-11-02 02:00 EDT → 01:00 EST)', () => {
    it('a daily fire time in the repeated hour runs once, at its first occurrence', () => {
      assert.deepEqual(fires('30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z', 3), [
        '2025-11-02T05:30:00Z', // 01:30 EDT; not 06:30Z (01:30 EST)
        '2025-11-03T06:30:00Z',
        '2025-11-04T06:30:00Z',
      ]);
      // asked from inside the repeated hour, after the first 01:30: the next day's
      assert.deepEqual(fires('30 1 * * *', 'America/New_York', '2025-11-02T05:45:00Z', 1), ['2025-11-03T06:30:00Z']);
    });

    it('an every-quarter-hour schedule fires on every real quarter hour through the repeated hour', () => {
      assert.deepEqual(fires('*/15 * * * *', 'America/New_York', '2025-11-02T04:50:00Z', 10), [
        '2025-11-02T05:00:00Z', '2025-11-02T05:15:00Z', '2025-11-02T05:30:00Z', '2025-11-02T05:45:00Z', // 01:xx EDT
        '2025-11-02T06:00:00Z', '2025-11-02T06:15:00Z', '2025-11-02T06:30:00Z', '2025-11-02T06:45:00Z', // 01:xx EST
        '2025-11-02T07:00:00Z', '2025-11-02T07:15:00Z',
      ]);
    });
  });

  describe('Europe/Berlin', () => {
    it('spring forward 2025-03-30 02:00 CET → 03:00 CEST: 02:30 daily runs at 03:00 CEST', () => {
      assert.deepEqual(fires('30 2 * * *', 'Europe/Berlin', '2025-03-29T12:00:00Z', 2), ['2025-03-30T01:00:00Z', '2025-03-31T00:30:00Z']);
    });

    it('fall back 2025-10-26 03:00 CEST → 02:00 CET: 02:30 daily once, hourly at :30 twice', () => {
      assert.deepEqual(fires('30 2 * * *', 'Europe/Berlin', '2025-10-25T12:00:00Z', 2), ['2025-10-26T00:30:00Z', '2025-10-27T01:30:00Z']);
      assert.deepEqual(fires('30 * * * *', 'Europe/Berlin', '2025-10-26T00:00:00Z', 3), ['2025-10-26T00:30:00Z', '2025-10-26T01:30:00Z', '2025-10-26T02:30:00Z']);
    });
  });
});

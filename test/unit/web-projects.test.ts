/** Pure helpers of the web UI's project and spider pages: an egg's default version, the trigger preview. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { versionFromFileName } from '../../src/web/pages/egg-version.js';
import { previewFireTimes } from '../../src/web/pages/spider/cron-preview.js';

describe('versionFromFileName', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  it('takes the version from name-version.egg, with or without a -pyX.Y tag', () => {
    assert.equal(versionFromFileName('quotes-1.2.egg', now), '1.2');
    assert.equal(versionFromFileName('quotes-1.0-py3.11.egg', now), '1.0');
    assert.equal(versionFromFileName('C:\\eggs\\my_project-2024.05.01.egg', now), '2024.05.01');
    assert.equal(versionFromFileName('quotes-1.2rc1.EGG', now), '1.2rc1');
  });
  it('falls back to the time in seconds when the name has no version', () => {
    const t = String(now.getTime() / 1000);
    for (const name of ['quotes.egg', 'broken.egg', 'quotes-latest.egg', 'a-1 2.egg', '']) assert.equal(versionFromFileName(name, now), t, name);
  });
});

describe('previewFireTimes', () => {
  it('lists the next fire times in the zone, with cron DST rules', () => {
    const p = previewFireTimes('30 2 * * *', 'America/New_York', 3, new Date('2025-03-08T12:00:00Z'));
    assert.ok(p.ok);
    // 2:30 on 9 March is in the spring-forward gap: it fires at 03:00 EDT.
    assert.deepEqual(p.times.map((t) => t.toISOString()), ['2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z', '2025-03-11T06:30:00.000Z']);
  });
  it('says why when it cannot preview', () => {
    const bad = previewFireTimes('61 * * * *', 'UTC');
    assert.ok(!bad.ok && /minute/.test(bad.problem), JSON.stringify(bad));
    const zone = previewFireTimes('@daily', 'Mars/Olympus');
    assert.ok(!zone.ok && /time zone/.test(zone.problem));
    assert.ok(!previewFireTimes('  ', 'UTC').ok);
    const never = previewFireTimes('0 0 31 2 *', 'UTC');
    assert.equal(never.ok, false);
  });
});

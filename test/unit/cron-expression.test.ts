import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CronSyntaxError, dayMatches, parseCron } from '../../src/domain/triggers/cron-expression.js';

describe('cron expressions', () => {
  it('parses values, ranges, lists and steps', () => {
    const c = parseCron('  5,10-12  */6   1-31/10 * 1-5 ');
    assert.equal(c.text, '5,10-12 */6 1-31/10 * 1-5');
    assert.deepEqual(c.minutes, [5, 10, 11, 12]);
    assert.deepEqual(c.hours, [0, 6, 12, 18]);
    assert.deepEqual([...c.daysOfMonth].sort((a, b) => a - b), [1, 11, 21, 31]);
    assert.equal(c.months.size, 12);
    assert.deepEqual([...c.daysOfWeek].sort(), [1, 2, 3, 4, 5]);
    assert.equal(c.hourWildcard, true);
    assert.deepEqual(parseCron('30/15 * * * *').minutes, [30, 45]);
  });

  it('reads month and weekday names, and 7 as Sunday', () => {
    const c = parseCron('0 0 * JAN,mar-May sun,7,Sat');
    assert.deepEqual([...c.months].sort((a, b) => a - b), [1, 3, 4, 5]);
    assert.deepEqual([...c.daysOfWeek].sort(), [0, 6]);
    assert.deepEqual([...parseCron('0 0 * * 5-7').daysOfWeek].sort(), [0, 5, 6]);
  });

  it('expands the aliases', () => {
    const expect: [string, string][] = [
      ['@yearly', '0 0 1 1 *'], ['@annually', '0 0 1 1 *'], ['@monthly', '0 0 1 * *'], ['@weekly', '0 0 * * 0'],
      ['@daily', '0 0 * * *'], ['@midnight', '0 0 * * *'], ['@hourly', '0 * * * *'],
    ];
    for (const [alias, same] of expect) {
      const a = parseCron(alias.toUpperCase());
      const b = parseCron(same);
      assert.equal(a.text, alias);
      assert.deepEqual({ ...a, text: '' }, { ...b, text: '' }, alias);
    }
  });

  it('refuses @reboot, unknown aliases, seconds and years with a clear message', () => {
    const cases: [string, RegExp][] = [
      ['@reboot', /@reboot is not supported/],
      ['@every 5m', /unknown cron alias '@every 5m'; use one of @yearly/],
      ['0 0 0 * * *', /has 6 fields; use 5 \(minute hour day-of-month month day-of-week\): fields for seconds or years are not supported/],
      ['0 0 0 * * * 2030', /has 7 fields/],
      ['0 0 *', /has 3 fields; expected 5/],
      ['', /cron is empty/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseCron(text), (e: unknown) => e instanceof CronSyntaxError && message.test(e.message), text);
  });

  it('refuses out-of-range values, backward ranges, bad steps and Quartz extensions, naming the field', () => {
    const cases: [string, RegExp][] = [
      ['60 * * * *', /minute field '60': 60 is out of range 0-59/],
      ['* 24 * * *', /hour field '24': 24 is out of range 0-23/],
      ['* * 0 * *', /day-of-month field '0': 0 is out of range 1-31/],
      ['* * * 13 *', /month field '13'/],
      ['* * * * 8', /day-of-week field '8': 8 is out of range 0-7/],
      ['* 5-2 * * *', /hour field '5-2': range 5-2 runs backwards/],
      ['*/0 * * * *', /step must be at least 1/],
      ['* * ? * *', /'\?' is not supported/],
      ['* * L * *', /'L' is not supported/],
      ['* * * * 5#2', /'#' is not supported/],
      ['a * * * *', /minute field 'a': 'a' is not a number/],
      ['* * * foo *', /'foo' is not a number or name/],
      ['1,,2 * * * *', /minute field/],
    ];
    for (const [text, message] of cases) assert.throws(() => parseCron(text), (e: unknown) => e instanceof CronSyntaxError && message.test(e.message), text);
  });

  it("matches days with cron's rule: either day field when both are restricted, both otherwise", () => {
    // 13th of the month OR a Friday
    const or = parseCron('0 0 13 * 5');
    assert.equal(or.dayOr, true);
    assert.equal(dayMatches(or, 1, 13, 2), true);
    assert.equal(dayMatches(or, 1, 14, 5), true);
    assert.equal(dayMatches(or, 1, 14, 4), false);
    // a wildcard day-of-week (even */2) leaves only the day of month
    const dom = parseCron('0 0 13 * *');
    assert.equal(dayMatches(dom, 1, 13, 2), true);
    assert.equal(dayMatches(dom, 1, 12, 5), false);
    assert.equal(parseCron('0 0 13 * */2').dayOr, false);
    const dow = parseCron('0 0 * * 5');
    assert.equal(dayMatches(dow, 1, 14, 5), true);
    assert.equal(dayMatches(dow, 1, 13, 2), false);
    // months always restrict
    assert.equal(dayMatches(parseCron('0 0 13 feb 5'), 3, 13, 5), false);
  });
});

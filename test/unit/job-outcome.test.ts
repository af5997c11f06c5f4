/**
 * Unit tests for jobOutcome: every row of the rule that turns a finished crawl into a job state.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobOutcome, type JobOutcomeInput } from '../../src/agent/runner/job-outcome.js';

const finished = { finish_reason: 'finished', item_scraped_count: 3, 'log_count/INFO': 10 };
const ran = (stats: Record<string, unknown> | undefined, extra: Partial<JobOutcomeInput> = {}): JobOutcomeInput => ({
  exitCode: 0,
  signal: null,
  stats,
  ...extra,
});

describe('jobOutcome', () => {
  it('a clean crawl succeeded, closed with Scrapy\'s finish_reason', () => {
    assert.deepEqual(jobOutcome(ran(finished)), { state: 'SUCCEEDED', warning: false, closeReason: 'finished' });
    assert.deepEqual(jobOutcome(ran({ ...finished, 'log_count/ERROR': 0, 'log_count/WARNING': 0 })), {
      state: 'SUCCEEDED',
      warning: false,
      closeReason: 'finished',
    });
  });

  it('keeps other finish reasons (closespider, a shutdown signal from outside)', () => {
    const stats = { finish_reason: 'closespider_itemcount' };
    assert.deepEqual(jobOutcome(ran(stats)), { state: 'SUCCEEDED', warning: false, closeReason: 'closespider_itemcount' });
    assert.equal(jobOutcome(ran({ finish_reason: 'shutdown' })).state, 'SUCCEEDED');
  });

  it('warnings only: succeeded with a warning', () => {
    assert.deepEqual(jobOutcome(ran({ ...finished, 'log_count/WARNING': 2 })), {
      state: 'SUCCEEDED',
      warning: true,
      closeReason: 'finished',
    });
  });

  it('any ERROR in the log fails the job, warnings still flagged', () => {
    assert.deepEqual(jobOutcome(ran({ ...finished, 'log_count/ERROR': 1 })), {
      state: 'FAILED',
      warning: false,
      closeReason: 'finished',
    });
    assert.deepEqual(jobOutcome(ran({ ...finished, 'log_count/ERROR': 4, 'log_count/WARNING': 1 })), {
      state: 'FAILED',
      warning: true,
      closeReason: 'finished',
    });
  });

  it('a non-zero exit fails the job, with the finish_reason if the crawl got that far', () => {
    assert.deepEqual(jobOutcome(ran(undefined, { exitCode: 3 })), { state: 'FAILED', warning: false, closeReason: 'failed' });
    assert.deepEqual(jobOutcome(ran(finished, { exitCode: 3 })), { state: 'FAILED', warning: false, closeReason: 'finished' });
  });

  it('a runner killed by a signal nobody asked for fails the job', () => {
    assert.deepEqual(jobOutcome(ran(undefined, { exitCode: null, signal: 'SIGKILL' })), {
      state: 'FAILED',
      warning: false,
      closeReason: 'killed',
    });
  });

  it('exit 0 without stats, or stats without finish_reason (forced shutdown), fails the job', () => {
    assert.deepEqual(jobOutcome(ran(undefined)), { state: 'FAILED', warning: false, closeReason: 'failed' });
    assert.deepEqual(jobOutcome(ran({ item_scraped_count: 1 })), { state: 'FAILED', warning: false, closeReason: 'failed' });
  });

  it('a cancelled job is CANCELLED whatever its exit, closed as cancelled', () => {
    for (const input of [
      ran({ finish_reason: 'shutdown' }),
      ran(undefined, { exitCode: null, signal: 'SIGKILL' }),
      ran({ finish_reason: 'shutdown', 'log_count/ERROR': 2 }, { exitCode: 3 }),
    ]) {
      assert.deepEqual(jobOutcome({ ...input, stopReason: 'cancelled' }), {
        state: 'CANCELLED',
        warning: false,
        closeReason: 'cancelled',
      });
    }
  });

  it('a job stopped by its timeout is CANCELLED, closed as timeout, warnings kept', () => {
    assert.deepEqual(jobOutcome(ran({ finish_reason: 'shutdown', 'log_count/WARNING': 1 }, { stopReason: 'timeout' })), {
      state: 'CANCELLED',
      warning: true,
      closeReason: 'timeout',
    });
  });

  it('ignores counts that are not numbers', () => {
    assert.equal(jobOutcome(ran({ ...finished, 'log_count/ERROR': 'many' })).state, 'SUCCEEDED');
  });
});

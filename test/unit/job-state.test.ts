import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canTransition, JOB_STATES, scrapydState, TERMINAL_STATES, type JobState } from '../../src/domain/jobs/job-state.js';

const allowed = new Set([
  'PENDING>RUNNING', 'PENDING>CANCELLED',
  'RUNNING>CANCELLING', 'RUNNING>SUCCEEDED', 'RUNNING>FAILED', 'RUNNING>CANCELLED', 'RUNNING>LOST',
  'CANCELLING>SUCCEEDED', 'CANCELLING>FAILED', 'CANCELLING>CANCELLED', 'CANCELLING>LOST',
]);

describe('job state machine', () => {
  it('allows exactly the documented transitions (all 49 pairs checked)', () => {
    let checked = 0;
    for (const from of JOB_STATES) {
      for (const to of JOB_STATES) {
        assert.equal(canTransition(from, to), allowed.has(`${from}>${to}`), `${from} -> ${to}`);
        checked++;
      }
    }
    assert.equal(checked, 49);
  });

  it('never leaves a terminal state, so a job cannot run twice', () => {
    for (const from of TERMINAL_STATES) for (const to of JOB_STATES) assert.equal(canTransition(from, to), false);
  });

  it('maps states to scrapyd\'s pending / running / finished', () => {
    const expected: Record<JobState, string> = {
      PENDING: 'pending', RUNNING: 'running', CANCELLING: 'running', SUCCEEDED: 'finished',
      FAILED: 'finished', CANCELLED: 'finished', LOST: 'finished',
    };
    for (const s of JOB_STATES) assert.equal(scrapydState(s), expected[s]);
  });
});

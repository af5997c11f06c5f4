/** Job outcome: turns how a crawl process ended (exit, signal, Scrapy stats, why we stopped it) into the job's final state. */
import { constants as osConstants } from 'node:os';
import type { JobResult } from './job-types.js';

export type JobState = 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
/** Why the agent stopped the job itself, if it did. */
export type StopReason = 'cancelled' | 'timeout';

export interface JobOutcomeInput {
  /** The runner's exit code; null when it was killed by a signal. */
  exitCode: number | null;
  /** The signal that killed the runner (e.g. 'SIGKILL'), or null. */
  signal: string | null;
  /** Final Scrapy stats (the runner's fd 4), undefined when it reported none. */
  stats: Record<string, unknown> | undefined;
  stopReason?: StopReason;
}

export interface JobOutcome {
  state: JobState;
  warning: boolean;
  /** Scrapy's finish_reason; 'cancelled' / 'timeout' when the agent stopped the job; 'failed' /
   * 'killed' when the crawl never reported one (failed to load, crashed, killed by a signal). */
  closeReason: string;
}

/**
 * The old scrapydd rule: a stopped job is CANCELLED (its log and items are kept); otherwise a
 * non-zero exit, a signal, a crawl that never finished or any `log_count/ERROR` is FAILED;
 * SUCCEEDED otherwise, with `warning` when the log has `log_count/WARNING`.
 */
export function jobOutcome({ exitCode, signal, stats, stopReason }: JobOutcomeInput): JobOutcome {
  const warning = count(stats, 'log_count/WARNING') > 0;
  if (stopReason) return { state: 'CANCELLED', warning, closeReason: stopReason };
  const finishReason = typeof stats?.finish_reason === 'string' ? stats.finish_reason : undefined;
  if (signal !== null) return { state: 'FAILED', warning, closeReason: finishReason ?? 'killed' };
  // No finish_reason with exit 0: the crawl was cut short (forced shutdown) or reported nothing.
  if (exitCode !== 0 || finishReason === undefined) {
    return { state: 'FAILED', warning, closeReason: finishReason ?? 'failed' };
  }
  const state = count(stats, 'log_count/ERROR') > 0 ? 'FAILED' : 'SUCCEEDED';
  return { state, warning, closeReason: finishReason };
}

function count(stats: Record<string, unknown> | undefined, key: string): number {
  const value = Number(stats?.[key] ?? 0);
  return Number.isFinite(value) ? value : 0;
}

export interface CrawlEnd {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** What the crawl wrote as its final stats (fd 4 or the stats file), '' if nothing. */
  statsText: string;
  stopReason: StopReason | undefined;
  logLineCount: number;
  itemCount: number;
}

/** The JobResult of a crawl that ended: outcome, exit code (minus the signal number when killed), stats. */
export function jobResult(end: CrawlEnd): JobResult {
  const statsText = end.statsText.trim();
  const stats = parseStats(statsText);
  const outcome = jobOutcome({ exitCode: end.exitCode, signal: end.signal, stats, stopReason: end.stopReason });
  return {
    ...outcome,
    exitCode: end.exitCode ?? -(osConstants.signals[end.signal as NodeJS.Signals] ?? 0),
    statsJson: stats ? statsText : '{}',
    logLineCount: end.logLineCount,
    itemCount: end.itemCount,
  };
}

function parseStats(text: string): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

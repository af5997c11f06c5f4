/** How a trigger's fire outcomes read in the UI: a label and a badge tone each. */
import type { TriggerOutcome } from '../../api/types';

export const OUTCOMES: Record<TriggerOutcome, { label: string; tone: 'success' | 'warning' | 'danger' | 'muted' }> = {
  QUEUED: { label: 'queued a job', tone: 'success' },
  MISSED: { label: 'missed', tone: 'warning' },
  SPIDER_DISABLED: { label: 'skipped: disabled', tone: 'muted' },
  SPIDER_MISSING: { label: 'skipped: missing', tone: 'warning' },
  NO_VERSION: { label: 'skipped: no version', tone: 'warning' },
};

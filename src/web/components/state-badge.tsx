/** A job's state as a colored badge that also reads as text (color is never the only signal). */

const LABELS: Record<string, string> = {
  PENDING: 'Pending',
  RUNNING: 'Running',
  CANCELLING: 'Cancelling',
  SUCCEEDED: 'Succeeded',
  FAILED: 'Failed',
  CANCELLED: 'Cancelled',
  LOST: 'Lost',
  STATE_UNSPECIFIED: 'Unknown',
};

const TONES: Record<string, string> = {
  PENDING: 'neutral',
  RUNNING: 'info',
  CANCELLING: 'warning',
  SUCCEEDED: 'success',
  FAILED: 'danger',
  CANCELLED: 'muted',
  LOST: 'danger',
};

export function StateBadge(props: { state: string | undefined }) {
  const state = props.state ?? 'STATE_UNSPECIFIED';
  return <span class={`badge badge-${TONES[state] ?? 'neutral'}`}>{LABELS[state] ?? state}</span>;
}

/** Any other status word (online/offline, enabled/disabled) with a tone. */
export function Badge(props: { tone: 'neutral' | 'info' | 'success' | 'warning' | 'danger' | 'muted'; children: string }) {
  return <span class={`badge badge-${props.tone}`}>{props.children}</span>;
}

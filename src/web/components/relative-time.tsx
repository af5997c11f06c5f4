/** "3 min ago" / "in 2 h", with the exact local time as a tooltip; refreshes itself. */
import { useEffect, useState } from 'preact/hooks';

export function RelativeTime(props: { time: string | undefined; never?: string }) {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(timer);
  }, []);
  if (!props.time) return <span class="muted">{props.never ?? '—'}</span>;
  const at = new Date(props.time);
  if (Number.isNaN(at.getTime())) return <span class="muted">—</span>;
  return (
    <time dateTime={props.time} title={at.toLocaleString()}>
      {relative(at.getTime() - now)}
    </time>
  );
}

/** A signed duration in words: past when negative. */
export function relative(deltaMs: number): string {
  const abs = Math.abs(deltaMs);
  const past = deltaMs <= 0;
  if (abs < 45_000) return past ? 'just now' : 'in a moment';
  const units: [number, string][] = [
    [365 * 86_400_000, 'y'],
    [30 * 86_400_000, 'mo'],
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
  ];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const n = Math.round(abs / size);
      return past ? `${n} ${unit} ago` : `in ${n} ${unit}`;
    }
  }
  return past ? '1 min ago' : 'in 1 min';
}

/** A duration between two times, e.g. "2 min 5 s"; for a running job pass no end. */
export function duration(startIso: string | undefined, endIso?: string): string {
  if (!startIso) return '—';
  const ms = (endIso ? Date.parse(endIso) : Date.now()) - Date.parse(startIso);
  if (!Number.isFinite(ms) || ms < 0) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

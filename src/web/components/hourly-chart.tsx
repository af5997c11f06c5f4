/**
 * Bars per hour as an inline SVG (no chart library): one bar per hour,
 * scaled to the largest, with the hour and value as each bar's tooltip and
 * a text summary for screen readers. Draws at any width (viewBox).
 */

export interface HourValue {
  startTime: string;
  value: number;
}

const W = 480;
const H = 120;
const AXIS = 16;

export function HourlyChart(props: { title: string; unit: string; hours: readonly HourValue[]; tone: 'info' | 'success' }) {
  const max = Math.max(1, ...props.hours.map((h) => h.value));
  const total = props.hours.reduce((n, h) => n + h.value, 0);
  const slot = W / Math.max(1, props.hours.length);
  const busiest = props.hours.reduce<HourValue | undefined>((b, h) => (!b || h.value > b.value ? h : b), undefined);
  const summary = `${props.title}: ${total.toLocaleString()} ${props.unit} in the last ${props.hours.length} hours${
    busiest && busiest.value > 0 ? `, most at ${hourLabel(busiest.startTime)} (${busiest.value.toLocaleString()})` : ''
  }.`;
  return (
    <figure class="chart">
      <figcaption>
        <span class="chart-title">{props.title}</span> <span class="muted">{total.toLocaleString()} in 24 h</span>
      </figcaption>
      <svg class={`chart-svg chart-${props.tone}`} viewBox={`0 0 ${W} ${H + AXIS}`} role="img" aria-label={summary}>
        <line class="chart-axis" x1="0" y1={H} x2={W} y2={H} />
        {props.hours.map((h, i) => {
          const height = h.value === 0 ? 0 : Math.max(2, (h.value / max) * (H - 4));
          return (
            <rect key={h.startTime} class="chart-bar" x={i * slot + slot * 0.15} y={H - height} width={slot * 0.7} height={height}>
              <title>{`${hourLabel(h.startTime)}: ${h.value.toLocaleString()} ${props.unit}`}</title>
            </rect>
          );
        })}
        {props.hours.map((h, i) =>
          i % 6 === 0 ? (
            <text key={`t${h.startTime}`} class="chart-label" x={i * slot + 2} y={H + AXIS - 3}>
              {hourLabel(h.startTime)}
            </text>
          ) : null,
        )}
      </svg>
      <p class="chart-max muted">max {max.toLocaleString()} per hour</p>
    </figure>
  );
}

function hourLabel(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

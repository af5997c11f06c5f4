/**
 * A job's log: the last TAIL lines at first, then new lines as they arrive
 * (polling the log URL from the last line seen) while `follow` is on; one
 * last read after the job ends. "Load earlier lines" prepends older ones;
 * never more than MAX_LINES are kept, and very long lines are cut.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { readLog } from '../api/job-files';
import { ErrorBox } from './status';

const TAIL = 1000;
const PAGE = 2000;
const MAX_LINES = 10_000;
const MAX_LINE_CHARS = 2000;
const POLL_MS = 1000;

interface Shown {
  /** Index of lines[0] in the whole log. */
  first: number;
  lines: string[];
  /** Lines stored when last read. */
  total: number;
}

export function LogTail(props: { logUrl: string; follow: boolean; lineCountHint: number }) {
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const shownRef = useRef<Shown | undefined>(undefined);
  shownRef.current = shown;

  // Reads everything after what is shown (the tail at first), once or until `follow` ends.
  useEffect(() => {
    const controller = new AbortController();
    let timer = 0;
    const readNew = async () => {
      try {
        const cur = shownRef.current;
        const from = cur ? cur.first + cur.lines.length : Math.max(0, props.lineCountHint - TAIL);
        const part = await readLog(props.logUrl, from, PAGE, controller.signal);
        setError(undefined);
        const next = append(cur ?? { first: from, lines: [], total: 0 }, part.lines, part.lineCount);
        shownRef.current = next;
        setShown(next);
        // A big backlog: read on at once.
        if (part.lines.length === PAGE) return void (timer = window.setTimeout(readNew, 0));
      } catch (err) {
        if (controller.signal.aborted) return;
        setError(err);
      }
      if (props.follow && !controller.signal.aborted) timer = window.setTimeout(readNew, POLL_MS);
    };
    void readNew();
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [props.logUrl, props.follow]);

  // Keep the view at the bottom while the reader has not scrolled up.
  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [shown]);

  async function loadEarlier() {
    if (!shown || shown.first === 0) return;
    setBusy(true);
    try {
      const from = Math.max(0, shown.first - TAIL);
      const part = await readLog(props.logUrl, from, shown.first - from);
      setShown((s) => s && { first: from, lines: [...part.lines.map(cut), ...s.lines].slice(0, MAX_LINES), total: Math.max(s.total, part.lineCount) });
      stick.current = false;
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div class="log-tail">
      <div class="log-toolbar">
        <span class="muted" aria-live="polite" data-testid="log-status">
          {shown === undefined
            ? 'Reading the log…'
            : `${props.follow ? 'Following the log' : 'Not following: the job has ended'} · lines ${shown.lines.length ? `${(shown.first + 1).toLocaleString()}–${(shown.first + shown.lines.length).toLocaleString()}` : '0'} of ${Math.max(shown.total, shown.first + shown.lines.length).toLocaleString()}`}
        </span>
        {shown && shown.first > 0 && (
          <button type="button" class="button button-small" onClick={loadEarlier} disabled={busy}>
            {busy ? 'Loading…' : 'Load earlier lines'}
          </button>
        )}
        <a class="button button-small" href={props.logUrl} target="_blank" rel="noopener">
          Full log
        </a>
      </div>
      {error !== undefined && <ErrorBox error={error} title="The log could not be read." />}
      <pre
        ref={box}
        class="log-lines"
        tabIndex={0}
        aria-label="Job log"
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {shown && shown.lines.length === 0 ? <span class="muted">The log is empty so far.</span> : shown?.lines.join('\n')}
      </pre>
    </div>
  );
}

function cut(line: string): string {
  return line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)} … [${(line.length - MAX_LINE_CHARS).toLocaleString()} more characters]` : line;
}

/** New lines after `s`; the oldest go when more than MAX_LINES are kept. */
function append(s: Shown, lines: string[], total: number): Shown {
  if (lines.length === 0) return { ...s, total: Math.max(s.total, total) };
  const all = [...s.lines, ...lines.map(cut)];
  const drop = Math.max(0, all.length - MAX_LINES);
  return { first: s.first + drop, lines: drop ? all.slice(drop) : all, total: Math.max(total, s.first + all.length) };
}

/**
 * Editable key/value pairs (spider arguments, Scrapy settings) as rows of two
 * inputs with Remove buttons and an Add button. Rows with an empty key are
 * left out of toMap(); a key given twice keeps the last value.
 *   const [args, setArgs] = useState<KeyValue[]>([]);
 *   <KeyValueRows legend="Arguments" keyLabel="Argument" rows={args} onChange={setArgs} />
 */
export interface KeyValue {
  key: string;
  value: string;
}

export function KeyValueRows(props: {
  legend: string;
  /** Singular noun for labels: "Argument 1 name". */
  keyLabel: string;
  rows: readonly KeyValue[];
  onChange: (rows: KeyValue[]) => void;
  keyPlaceholder?: string;
  valuePlaceholder?: string;
  hint?: string;
  error?: string;
}) {
  const { rows, onChange } = props;
  const set = (i: number, patch: Partial<KeyValue>) => onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset class={`kv-rows${props.error ? ' field-invalid' : ''}`}>
      <legend>{props.legend}</legend>
      {rows.length === 0 && <p class="muted kv-none">None.</p>}
      {rows.map((row, i) => (
        <div class="kv-row" key={i}>
          <input
            aria-label={`${props.keyLabel} ${i + 1} name`}
            placeholder={props.keyPlaceholder ?? 'name'}
            value={row.key}
            onInput={(e) => set(i, { key: e.currentTarget.value })}
          />
          <input
            aria-label={`${props.keyLabel} ${i + 1} value`}
            placeholder={props.valuePlaceholder ?? 'value'}
            value={row.value}
            onInput={(e) => set(i, { value: e.currentTarget.value })}
          />
          <button type="button" class="button button-small" aria-label={`Remove ${props.keyLabel.toLowerCase()} ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" class="button button-small" onClick={() => onChange([...rows, { key: '', value: '' }])}>
        Add {props.keyLabel.toLowerCase()}
      </button>
      {props.hint && <p class="field-hint">{props.hint}</p>}
      {props.error && (
        <p class="field-error" role="alert">
          {props.error}
        </p>
      )}
    </fieldset>
  );
}

export function toMap(rows: readonly KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of rows) if (r.key.trim() !== '') out[r.key.trim()] = r.value;
  return out;
}

export function fromMap(map: Record<string, string> | undefined): KeyValue[] {
  return Object.entries(map ?? {}).map(([key, value]) => ({ key, value }));
}

/**
 * One crawled item (one JSON line as the agent stored it) as the body of its
 * webhook request, application/x-www-form-urlencoded: the item's keys in
 * order, strings as they are, numbers as their JSON text (exactly: big
 * integers and decimals are never rounded through a double), true/false,
 * null as an empty value, objects and arrays JSON-encoded; UTF-8
 * percent-encoding. Python's json module writes NaN, Infinity and -Infinity
 * bare, so they are accepted: sent as that text at the top level, as null
 * inside a JSON-encoded value (JSON has no such numbers).
 */

export type JsonValue =
  | { kind: 'string'; value: string }
  | { kind: 'number'; text: string }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'array'; items: JsonValue[] }
  | { kind: 'object'; entries: [string, JsonValue][] };

export class ItemFormatError extends Error {}

/** The item's fields in order as form fields; throws ItemFormatError when the line is not a JSON object. */
export function itemFormFields(line: string): [string, string][] {
  const value = parseLenientJson(line);
  if (value.kind !== 'object') throw new ItemFormatError(`the item is a JSON ${value.kind}, not an object`);
  return value.entries.map(([k, v]) => [k, formValue(v)]);
}

/** The urlencoded body of an item. */
export function itemFormBody(line: string): string {
  const form = new URLSearchParams();
  for (const [k, v] of itemFormFields(line)) form.append(k, v);
  return form.toString();
}

function formValue(v: JsonValue): string {
  switch (v.kind) {
    case 'string':
      return v.value;
    case 'number':
      return v.text;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'null':
      return '';
    default:
      return toJson(v);
  }
}

/** Compact JSON; numbers keep their text, NaN and the infinities become null. */
export function toJson(v: JsonValue): string {
  switch (v.kind) {
    case 'string':
      return JSON.stringify(v.value);
    case 'number':
      return /^-?(NaN|Infinity)$/.test(v.text) ? 'null' : v.text;
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'array':
      return `[${v.items.map(toJson).join(',')}]`;
    case 'object':
      return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const BARE = /-?Infinity|NaN/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const MAX_DEPTH = 512;

/** JSON (RFC 8259) plus Python's bare NaN, Infinity and -Infinity; keys keep their order (duplicates too). */
export function parseLenientJson(text: string): JsonValue {
  let pos = 0;
  const fail = (what: string): never => {
    throw new ItemFormatError(`not valid JSON at character ${pos + 1}: ${what}`);
  };
  const ws = () => {
    while (pos < text.length && ' \t\n\r'.includes(text[pos]!)) pos++;
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) return undefined;
    pos += m[0].length;
    return m[0];
  };
  const value = (depth: number): JsonValue => {
    if (depth > MAX_DEPTH) fail('nested too deeply');
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const entries: [string, JsonValue][] = [];
      ws();
      if (text[pos] === '}') return pos++, { kind: 'object', entries };
      for (;;) {
        ws();
        const key = match(STRING) ?? fail('expected a string key');
        ws();
        if (text[pos++] !== ':') fail("expected ':'");
        entries.push([JSON.parse(key) as string, value(depth + 1)]);
        ws();
        const sep = text[pos++];
        if (sep === '}') return { kind: 'object', entries };
        if (sep !== ',') fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      pos++;
      const items: JsonValue[] = [];
      ws();
      if (text[pos] === ']') return pos++, { kind: 'array', items };
      for (;;) {
        items.push(value(depth + 1));
        ws();
        const sep = text[pos++];
        if (sep === ']') return { kind: 'array', items };
        if (sep !== ',') fail("expected ',' or ']'");
      }
    }
    if (c === '"') {
      const s = match(STRING) ?? fail('a malformed string');
      return { kind: 'string', value: JSON.parse(s) as string };
    }
    for (const [word, v] of [['true', { kind: 'bool', value: true }], ['false', { kind: 'bool', value: false }], ['null', { kind: 'null' }]] as const) {
      if (text.startsWith(word, pos)) return (pos += word.length), v;
    }
    const num = match(BARE) ?? match(NUMBER);
    if (num !== undefined) return { kind: 'number', text: num };
    return fail(c === undefined ? 'unexpected end' : `unexpected '${c}'`);
  };
  const result = value(0);
  ws();
  if (pos < text.length) fail('text after the value');
  return result;
}

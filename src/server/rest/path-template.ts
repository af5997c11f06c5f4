// google.api.http path templates are parsed once at start-up so that matching a request is a cheap segment walk.

/** One template segment after variables are flattened into their sub-templates. */
export type TemplateSegment =
  | { readonly kind: 'literal'; readonly value: string } // percent-decoded literal text
  | { readonly kind: 'wildcard' } // `*`: exactly one non-empty segment
  | { readonly kind: 'deep' }; // `**`: zero or more segments, always last

/** A `{field.path=...}` capture covering segments [start, end) of the flattened template. */
export interface TemplateVariable {
  readonly fieldPath: string;
  readonly start: number;
  readonly end: number;
  /** More than one segment or `**`: `%2F` stays encoded in the captured value (http.proto). */
  readonly multiSegment: boolean;
}

export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** Custom verb without the colon, e.g. `run` for `...:run`. */
  readonly verb: string | undefined;
  /** Matches a raw (still percent-encoded) URL path, no query string; fieldPath → decoded value. */
  match(path: string): Record<string, string> | null;
}

export class TemplateSyntaxError extends Error {
  constructor(
    readonly template: string,
    readonly offset: number,
    detail: string,
  ) {
    super(`invalid path template "${template}" at offset ${offset}: ${detail}`);
    this.name = 'TemplateSyntaxError';
  }
}

// RFC 3986 pchar minus ':' (verb separator), '=' and '*' (template syntax); '%' starts an escape.
const LITERAL_CHAR = /[A-Za-z0-9\-._~!$&'()+,;@%]/;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const HEX2 = /^[0-9A-Fa-f]{2}$/;

class Parser {
  private pos = 0;
  readonly segments: TemplateSegment[] = [];
  readonly variables: TemplateVariable[] = [];
  verb: string | undefined;

  constructor(private readonly src: string) {}

  parse(): void {
    if (this.src[0] !== '/') this.fail('a template must start with "/"');
    this.pos = 1;
    this.parseSegments(false);
    if (this.src[this.pos] === ':') {
      this.pos++;
      this.verb = this.parseLiteral('a verb after ":"');
      if (this.pos < this.src.length) this.fail('the ":verb" must be the last part of the template');
    }
    if (this.pos < this.src.length) this.fail(`unexpected "${this.src[this.pos]}"`);
    const deep = this.segments.findIndex((s) => s.kind === 'deep');
    if (deep >= 0 && deep !== this.segments.length - 1) {
      this.fail('"**" must be the last segment (only a ":verb" may follow it)', this.src.indexOf('**'));
    }
    const seen = new Set<string>();
    for (const v of this.variables) {
      if (seen.has(v.fieldPath)) this.fail(`field path "${v.fieldPath}" is bound twice`, this.src.indexOf(v.fieldPath));
      seen.add(v.fieldPath);
    }
  }

  private fail(detail: string, at = this.pos): never {
    throw new TemplateSyntaxError(this.src, at, detail);
  }

  private parseSegments(inVariable: boolean): void {
    for (;;) {
      this.parseSegment(inVariable);
      if (this.src[this.pos] !== '/') return;
      this.pos++;
    }
  }

  private parseSegment(inVariable: boolean): void {
    const c = this.src[this.pos];
    if (c === '*') {
      const deep = this.src[this.pos + 1] === '*';
      this.pos += deep ? 2 : 1;
      this.segments.push({ kind: deep ? 'deep' : 'wildcard' });
      if (this.src[this.pos] === '*') this.fail('"***" is not a valid segment');
      return;
    }
    if (c === '{') {
      if (inVariable) this.fail('a variable template must not contain other variables');
      this.parseVariable();
      return;
    }
    if (c === undefined || c === '/' || c === '}' || c === ':') this.fail('empty segment');
    if (!LITERAL_CHAR.test(c)) this.fail(`unexpected "${c}"`);
    this.segments.push({ kind: 'literal', value: this.parseLiteral('a segment') });
  }

  private parseVariable(): void {
    const open = this.pos++;
    const fieldPath = this.parseFieldPath();
    const start = this.segments.length;
    if (this.src[this.pos] === '=') {
      this.pos++;
      this.parseSegments(true);
    } else {
      this.segments.push({ kind: 'wildcard' });
    }
    if (this.src[this.pos] !== '}') this.fail(`expected "}" to close the variable opened at offset ${open}`);
    this.pos++;
    const end = this.segments.length;
    const multiSegment = end - start > 1 || this.segments[start]?.kind === 'deep';
    this.variables.push({ fieldPath, start, end, multiSegment });
  }

  private parseFieldPath(): string {
    const idents: string[] = [];
    for (;;) {
      IDENT.lastIndex = this.pos;
      const m = IDENT.exec(this.src);
      if (!m) this.fail('expected a field name (IDENT) in the variable');
      idents.push(m[0]);
      this.pos += m[0].length;
      if (this.src[this.pos] !== '.') return idents.join('.');
      this.pos++;
    }
  }

  private parseLiteral(what: string): string {
    const start = this.pos;
    while (this.pos < this.src.length && LITERAL_CHAR.test(this.src[this.pos]!)) {
      if (this.src[this.pos] === '%' && !HEX2.test(this.src.slice(this.pos + 1, this.pos + 3))) {
        this.fail('"%" must be followed by two hex digits');
      }
      this.pos += this.src[this.pos] === '%' ? 3 : 1;
    }
    if (this.pos === start) this.fail(`expected ${what}`);
    const decoded = percentDecode(this.src.slice(start, this.pos), false);
    if (decoded === null) this.fail('literal does not decode to valid UTF-8', start);
    return decoded;
  }
}

/**
 * Decodes %HH escapes as UTF-8. With keepSlash, `%2F`/`%2f` stay as written (multi-segment
 * variables, per http.proto). Returns null for malformed escapes or invalid UTF-8.
 */
export function percentDecode(raw: string, keepSlash: boolean): string | null {
  if (!raw.includes('%')) return raw;
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < raw.length; ) {
    if (raw[i] !== '%') {
      let j = raw.indexOf('%', i);
      if (j < 0) j = raw.length;
      for (const b of encoder.encode(raw.slice(i, j))) bytes.push(b);
      i = j;
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!HEX2.test(hex)) return null;
    const b = parseInt(hex, 16);
    if (keepSlash && b === 0x2f) bytes.push(0x25, hex.charCodeAt(0), hex.charCodeAt(1));
    else bytes.push(b);
    i += 3;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** Parses and compiles a template; throws TemplateSyntaxError when it is malformed. */
export function compileTemplate(source: string): PathTemplate {
  const parser = new Parser(source);
  parser.parse();
  const { segments, variables, verb } = parser;
  const hasDeep = segments[segments.length - 1]?.kind === 'deep';

  const match = (path: string): Record<string, string> | null => {
    if (!path.startsWith('/')) return null;
    let rest = path.slice(1);
    if (verb !== undefined) {
      const colon = rest.lastIndexOf(':');
      if (colon < 0 || rest.indexOf('/', colon) >= 0) return null;
      if (percentDecode(rest.slice(colon + 1), false) !== verb) return null;
      rest = rest.slice(0, colon);
    }
    const parts = rest === '' ? [] : rest.split('/');
    if (hasDeep ? parts.length < segments.length - 1 : parts.length !== segments.length) return null;
    if (parts.includes('')) return null;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.kind === 'literal' && percentDecode(parts[i]!, false) !== seg.value) return null;
    }
    const params: Record<string, string> = {};
    for (const v of variables) {
      const end = hasDeep && v.end === segments.length ? parts.length : v.end;
      const value = percentDecode(parts.slice(v.start, end).join('/'), v.multiSegment);
      if (value === null) return null;
      Object.defineProperty(params, v.fieldPath, { value, enumerable: true, writable: true, configurable: true });
    }
    return params;
  };

  return { source, segments, variables, verb, match };
}

const RANK = { literal: 0, wildcard: 1, deep: 2 } as const;

/**
 * Orders templates most specific first (negative when `a` wins): segment by segment a literal beats
 * `*`, which beats `**`; then fewer segments, then having a verb; ties fall back to the source text
 * so the order never depends on declaration order.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = RANK[a.segments[i]!.kind] - RANK[b.segments[i]!.kind];
    if (d !== 0) return d;
  }
  if (a.segments.length !== b.segments.length) return a.segments.length - b.segments.length;
  const verbs = Number(b.verb !== undefined) - Number(a.verb !== undefined);
  if (verbs !== 0) return verbs;
  return a.source < b.source ? -1 : a.source > b.source ? 1 : 0;
}

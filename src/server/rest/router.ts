// Routes are ranked once at construction so every request resolves the same way regardless of proto order.
import { InvalidArgument } from '../../errors/domain-error.js';
import type { HttpRoute } from './http-rules.js';
import { compareSpecificity, percentDecode } from './path-template.js';

export type RouteMatch =
  | { kind: 'match'; route: HttpRoute; pathParams: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

interface Ranked {
  rank: number;
  route: HttpRoute;
}

const ANY = '\u0000*'; // index key for templates whose first segment is not a literal
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;

/**
 * Matches (method, path) against HttpRoutes. Candidates are indexed by first literal segment and
 * segment count (templates ending in `**` by first segment only), and tried most specific first
 * (see compareSpecificity). When a matching template carries a `:verb`, templates without one are
 * dropped, so `GET /v1/x/y:run` answers 405 rather than binding `y:run` to a variable. HEAD falls
 * back to GET routes; a custom `*` rule accepts any method.
 */
export class RestRouter {
  private readonly fixed = new Map<string, Ranked[]>();
  private readonly deep = new Map<string, Ranked[]>();

  constructor(routes: HttpRoute[]) {
    const ranked = routes
      .map((route, i) => ({ route, i }))
      .sort((a, b) => compareSpecificity(a.route.template, b.route.template) || a.i - b.i)
      .map(({ route }, rank) => ({ rank, route }));
    for (const entry of ranked) {
      const segs = entry.route.template.segments;
      const first = segs[0]?.kind === 'literal' ? segs[0].value : ANY;
      const isDeep = segs[segs.length - 1]?.kind === 'deep';
      const key = isDeep ? first : `${first}\u0000${segs.length}`;
      const index = isDeep ? this.deep : this.fixed;
      const list = index.get(key) ?? [];
      list.push(entry);
      index.set(key, list);
    }
  }

  /** `path` is the raw, percent-encoded request path; a `?query` or `#fragment` part is ignored. */
  match(httpMethod: string, path: string): RouteMatch {
    const cut = path.search(/[?#]/);
    const rawPath = cut < 0 ? path : path.slice(0, cut);
    if (!rawPath.startsWith('/')) return { kind: 'not-found' };
    if (BAD_ESCAPE.test(rawPath)) throw new InvalidArgument('malformed percent-encoding in URL path', { field: 'path' });

    const matches: { route: HttpRoute; pathParams: Record<string, string> }[] = [];
    for (const { route } of this.candidates(rawPath)) {
      const pathParams = route.template.match(rawPath);
      if (pathParams) matches.push({ route, pathParams });
    }
    if (matches.length === 0) return { kind: 'not-found' };
    const viable = matches.some((m) => m.route.template.verb !== undefined)
      ? matches.filter((m) => m.route.template.verb !== undefined)
      : matches;

    const method = httpMethod.toUpperCase();
    const pick =
      viable.find((m) => m.route.httpMethod === method) ??
      (method === 'HEAD' ? viable.find((m) => m.route.httpMethod === 'GET') : undefined) ??
      viable.find((m) => m.route.httpMethod === '*');
    if (pick) return { kind: 'match', route: pick.route, pathParams: pick.pathParams };

    const allowed = new Set(viable.map((m) => m.route.httpMethod));
    if (allowed.has('GET')) allowed.add('HEAD');
    return { kind: 'method-not-allowed', allowed: [...allowed].sort() };
  }

  /** Routes that could match `rawPath`, most specific first. */
  private candidates(rawPath: string): Ranked[] {
    const rest = rawPath.slice(1);
    const count = rest === '' ? 0 : rest.split('/').length;
    const slash = rest.indexOf('/');
    const rawFirst = slash < 0 ? rest : rest.slice(0, slash);
    // On a one-segment path a ':verb' is glued to the first segment; index by the text before it too.
    const keys = new Set([ANY]);
    for (const raw of [rawFirst, rawFirst.split(':')[0]!]) {
      const decoded = percentDecode(raw, false);
      if (decoded !== null) keys.add(decoded);
    }
    const found: Ranked[] = [];
    for (const key of keys) {
      found.push(...(this.fixed.get(`${key}\u0000${count}`) ?? []), ...(this.deep.get(key) ?? []));
    }
    return found.sort((a, b) => a.rank - b.rank);
  }
}

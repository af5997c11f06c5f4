/**
 * ListNodes filters, a small AIP-160 subset: terms joined by AND, each
 * `is_online = true|false`, `temporary = true|false` or `tags:"x"` (or tags:x).
 */
import { InvalidArgument } from '../../errors/domain-error.js';
import type { NodeFilter } from '../../storage/nodes-repo.js';

const BOOL_TERM = /^(is_online|temporary)\s*=\s*(true|false)$/;
const TAG_TERM = /^tags\s*:\s*(?:"([A-Za-z0-9_.-]{1,64})"|([A-Za-z0-9_.-]{1,64}))$/;

export function parseNodeFilter(filter: string): NodeFilter {
  const result: NodeFilter = {};
  const text = filter.trim();
  if (text === '') return result;
  for (const raw of text.split(/\s+AND\s+/)) {
    const term = raw.trim();
    const bool = BOOL_TERM.exec(term);
    const tag = TAG_TERM.exec(term);
    if (bool) {
      const key = bool[1] === 'is_online' ? 'isOnline' : 'temporary';
      if (result[key] !== undefined) throw bad(`'${bool[1]}' appears twice`);
      result[key] = bool[2] === 'true';
    } else if (tag) {
      if (result.tag !== undefined) throw bad('only one tags term is supported');
      result.tag = tag[1] ?? tag[2];
    } else {
      throw bad(`cannot filter by '${term}'`);
    }
  }
  return result;
}

function bad(what: string): InvalidArgument {
  return new InvalidArgument(`filter: ${what}; supported: is_online = true|false, temporary = true|false, tags:"x", joined by AND`, {
    field: 'filter',
    reason: 'INVALID_FILTER',
  });
}

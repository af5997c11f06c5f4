/** Node tags: trimmed, each 1-64 of [A-Za-z0-9_.-], deduplicated in first-seen order, at most 100. */
import { InvalidArgument } from '../../errors/domain-error.js';

const TAG = /^[A-Za-z0-9_.-]{1,64}$/;
export const MAX_TAGS = 100;

/** Checks and normalizes tags; `field` names them in errors. */
export function normalizeTags(tags: readonly string[], field = 'tags'): string[] {
  const seen = new Set<string>();
  for (const raw of tags) {
    const tag = raw.trim();
    if (!TAG.test(tag)) {
      throw new InvalidArgument(`tag '${raw}' is not valid: use 1-64 of A-Z a-z 0-9 _ . -`, { field, reason: 'INVALID_TAG' });
    }
    seen.add(tag);
  }
  if (seen.size > MAX_TAGS) throw new InvalidArgument(`too many tags (${MAX_TAGS} at most)`, { field, reason: 'INVALID_TAG' });
  return [...seen];
}


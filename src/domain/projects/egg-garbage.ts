/** Removes stored eggs that no version refers to any more. */
import * as repo from '../../storage/projects-repo.js';
import type { Deps } from '../deps.js';

export async function collectEggs(deps: Deps, sha256s: readonly string[]): Promise<void> {
  for (const sha of new Set(sha256s)) {
    try {
      if (!(await repo.eggInUse(deps.db, sha))) await deps.blobs.delete(sha);
    } catch (err) {
      // An egg left behind costs disk, never correctness.
      deps.logger.warn({ err, sha256: sha }, 'could not remove an unused egg');
    }
  }
}

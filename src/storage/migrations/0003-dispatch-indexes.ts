/**
 * Dispatch at scale. The claim reads pending jobs spider by spider and
 * leaves out spiders at their concurrency in SQL, so a spider's backlog
 * cannot hide other spiders' jobs and a long queue costs nothing: the
 * concurrency setting gets a column of its own (kept in step with
 * settings_json by updateSpiderSettings), pending jobs an index per spider
 * in dispatch order, and active jobs partial indexes by spider and by node.
 * Every job row is written about three times in its life: fewer indexes to
 * update (the old state and node indexes go), and on PostgreSQL room in
 * each page (fillfactor) for updates that touch no index to stay in place.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

export class DispatchIndexes1764000000003 implements MigrationInterface {
  name = 'DispatchIndexes1764000000003';

  async up(q: QueryRunner): Promise<void> {
    await q.query(dialectSql(q, `ALTER TABLE spiders ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 1`));
    const rows = (await q.query(`SELECT id, settings_json FROM spiders`)) as { id: unknown; settings_json: string }[];
    for (const r of rows) {
      const stored = JSON.parse(r.settings_json) as { concurrency?: unknown };
      if (typeof stored.concurrency === 'number' && stored.concurrency !== 1) {
        await q.query(`UPDATE spiders SET concurrency = ${Math.max(1, Math.trunc(stored.concurrency))} WHERE id = ${String(r.id)}`);
      }
    }
    await q.query(`CREATE INDEX jobs_active_spider ON jobs (spider_id) WHERE state IN ('RUNNING', 'CANCELLING')`);
    await q.query(`CREATE INDEX jobs_pending_spider ON jobs (spider_id, priority DESC, created_at, id) WHERE state = 'PENDING'`);
    await q.query(`CREATE INDEX jobs_active_node ON jobs (node_id) WHERE state IN ('RUNNING', 'CANCELLING')`);
    await q.query('DROP INDEX jobs_pending');
    await q.query('DROP INDEX jobs_node');
    if (q.connection.options.type === 'postgres') await q.query('ALTER TABLE jobs SET (fillfactor = 80)');
  }

  async down(q: QueryRunner): Promise<void> {
    if (q.connection.options.type === 'postgres') await q.query('ALTER TABLE jobs RESET (fillfactor)');
    await q.query('CREATE INDEX jobs_node ON jobs (node_id, state)');
    await q.query('CREATE INDEX jobs_pending ON jobs (state, priority, created_at)');
    await q.query('DROP INDEX jobs_active_node');
    await q.query('DROP INDEX jobs_pending_spider');
    await q.query('DROP INDEX jobs_active_spider');
    await q.query('ALTER TABLE spiders DROP COLUMN concurrency');
  }
}

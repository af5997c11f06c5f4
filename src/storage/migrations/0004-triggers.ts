/**
 * Cron triggers and their fire records. A trigger's next_fire_at is the fire
 * time the clocks of all servers wait for; the one that moves it on (a
 * compare-and-set) owns that fire. trigger_fires keeps one row per fire time
 * handled (UNIQUE: a fire time is never handled twice, also across restarts)
 * with what happened. dedupe_key makes an exact duplicate of a spider's
 * trigger (cron, zone, args, settings) impossible.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE triggers (
    id BIGINT PRIMARY KEY,
    spider_id BIGINT NOT NULL REFERENCES spiders(id) ON DELETE CASCADE,
    cron TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    args_json TEXT NOT NULL DEFAULT '{}',
    settings_json TEXT NOT NULL DEFAULT '{}',
    dedupe_key TEXT NOT NULL,
    next_fire_at TIMESTAMPTZ,
    last_fire_at TIMESTAMPTZ,
    last_outcome TEXT,
    last_reason TEXT NOT NULL DEFAULT '',
    last_job_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (spider_id, dedupe_key)
  )`,
  `CREATE INDEX triggers_next_fire ON triggers (next_fire_at) WHERE next_fire_at IS NOT NULL`,
  `CREATE TABLE trigger_fires (
    trigger_id BIGINT NOT NULL REFERENCES triggers(id) ON DELETE CASCADE,
    fire_time TIMESTAMPTZ NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    job_id BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (trigger_id, fire_time)
  )`,
  `CREATE INDEX jobs_trigger ON jobs (trigger_id) WHERE trigger_id IS NOT NULL`,
];

export class Triggers1764000000004 implements MigrationInterface {
  name = 'Triggers1764000000004';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX jobs_trigger');
    await q.query('DROP TABLE trigger_fires');
    await q.query('DROP TABLE triggers');
  }
}

/**
 * The outbox of failure e-mail: one row per mail, written in the transaction
 * that ends the job, sent by whichever server claims it first (a lease), and
 * kept with its outcome. job_id has no foreign key: pruning finished jobs
 * must not take their unsent mail with them.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE mail_outbox (
    id BIGINT PRIMARY KEY,
    job_id BIGINT,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
  )`,
  `CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state = 'PENDING'`,
  `CREATE INDEX mail_outbox_job ON mail_outbox (job_id)`,
];

export class MailOutbox1764000000006 implements MigrationInterface {
  name = 'MailOutbox1764000000006';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE mail_outbox');
  }
}

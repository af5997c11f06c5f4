/**
 * Spider webhooks and their deliveries. A delivery is one finished job's
 * items on their way to the webhook's URL: a cursor (next_index) advanced
 * after each accepted request, so a restart resumes where it stopped; a
 * lease (lease_owner, lease_expires_at) so one server at a time sends a
 * webhook's items; the webhook row carries the pacing shared by every server
 * (next_send_at: no request before it).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE webhooks (
    spider_id BIGINT PRIMARY KEY REFERENCES spiders(id) ON DELETE CASCADE,
    payload_url TEXT NOT NULL,
    next_send_at TIMESTAMPTZ,
    last_delivery_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE webhook_deliveries (
    id BIGINT PRIMARY KEY,
    job_id BIGINT NOT NULL UNIQUE REFERENCES jobs(id) ON DELETE CASCADE,
    spider_id BIGINT NOT NULL REFERENCES spiders(id) ON DELETE CASCADE,
    payload_url TEXT NOT NULL,
    state TEXT NOT NULL,
    next_index BIGINT NOT NULL DEFAULT 0,
    total_items BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    item_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
  )`,
  // The open deliveries of a webhook in the order their jobs ended (the delivery worker's scan and claim).
  `CREATE INDEX webhook_deliveries_open ON webhook_deliveries (spider_id, id) WHERE state IN ('PENDING', 'DELIVERING')`,
  `CREATE INDEX webhook_deliveries_spider ON webhook_deliveries (spider_id, state)`,
];

export class Webhooks1764000000005 implements MigrationInterface {
  name = 'Webhooks1764000000005';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhooks');
  }
}

/**
 * Sign-in sessions of the web UI: only a hash of the cookie's token is
 * stored, with the CSRF token the UI echoes on state changes, the idle
 * expiry (moved forward as the session is used) and the absolute one.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE web_sessions (
    id BIGINT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    client_ip TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    idle_expires_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE INDEX web_sessions_user_id ON web_sessions (user_id)`,
  `CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at)`,
];

export class WebSessions1764000000007 implements MigrationInterface {
  name = 'WebSessions1764000000007';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE web_sessions');
  }
}

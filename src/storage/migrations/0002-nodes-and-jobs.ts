/** Nodes, node keys, node sessions, jobs and their log/item chunks. */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE node_keys (
    id BIGINT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    tags_json TEXT NOT NULL DEFAULT '[]',
    creator_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ
  )`,
  `CREATE TABLE nodes (
    id BIGINT PRIMARY KEY,
    display_name TEXT NOT NULL,
    tags_json TEXT NOT NULL DEFAULT '[]',
    secret_hash TEXT,
    temporary BOOLEAN NOT NULL DEFAULT FALSE,
    is_online BOOLEAN NOT NULL DEFAULT FALSE,
    client_ip TEXT NOT NULL DEFAULT '',
    slots INTEGER NOT NULL DEFAULT 1,
    agent_version TEXT NOT NULL DEFAULT '',
    current_session_id BIGINT,
    last_heartbeat_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE node_sessions (
    id BIGINT PRIMARY KEY,
    node_id BIGINT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    client_ip TEXT NOT NULL DEFAULT '',
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TIMESTAMPTZ NOT NULL,
    last_heartbeat_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
  )`,
  `CREATE INDEX node_sessions_node ON node_sessions (node_id, created_at)`,
  `CREATE TABLE jobs (
    id BIGINT PRIMARY KEY,
    job_key TEXT NOT NULL UNIQUE,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    spider_id BIGINT NOT NULL REFERENCES spiders(id) ON DELETE CASCADE,
    version_name TEXT NOT NULL,
    egg_sha256 TEXT NOT NULL,
    egg_size BIGINT NOT NULL,
    settings_module TEXT NOT NULL,
    state TEXT NOT NULL,
    priority DOUBLE PRECISION NOT NULL DEFAULT 0,
    tag TEXT NOT NULL DEFAULT '',
    args_json TEXT NOT NULL DEFAULT '{}',
    settings_json TEXT NOT NULL DEFAULT '{}',
    timeout_seconds INTEGER NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 1,
    retry_of BIGINT,
    trigger_id BIGINT,
    node_id BIGINT,
    session_id BIGINT,
    pid INTEGER,
    exit_code INTEGER,
    warning BOOLEAN NOT NULL DEFAULT FALSE,
    item_count BIGINT NOT NULL DEFAULT 0,
    log_line_count BIGINT NOT NULL DEFAULT 0,
    close_reason TEXT NOT NULL DEFAULT '',
    stats_json TEXT NOT NULL DEFAULT '',
    cancel_signal TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE INDEX jobs_pending ON jobs (state, priority, created_at)`,
  `CREATE INDEX jobs_spider ON jobs (spider_id, created_at)`,
  `CREATE INDEX jobs_node ON jobs (node_id, state)`,
  `CREATE INDEX jobs_created ON jobs (created_at)`,
  `CREATE TABLE job_chunks (
    job_id BIGINT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    first_index BIGINT NOT NULL,
    count INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (job_id, kind, first_index)
  )`,
  `ALTER TABLE projects ADD COLUMN dispatch_seq BIGINT`,
];

export class NodesAndJobs1764000000002 implements MigrationInterface {
  name = 'NodesAndJobs1764000000002';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE projects DROP COLUMN dispatch_seq');
    for (const t of ['job_chunks', 'jobs', 'node_sessions', 'nodes', 'node_keys']) await q.query(`DROP TABLE ${t}`);
  }
}

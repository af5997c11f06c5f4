/** Users, API keys, projects, versions and spiders. */
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { dialectSql } from './dialect-sql.js';

const statements = [
  `CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE api_keys (
    id BIGINT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ
  )`,
  `CREATE INDEX api_keys_user_id ON api_keys (user_id)`,
  `CREATE TABLE projects (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    owner_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
  )`,
  `CREATE TABLE versions (
    id BIGINT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    egg_sha256 TEXT NOT NULL,
    egg_size BIGINT NOT NULL,
    settings_module TEXT NOT NULL,
    spiders_json TEXT NOT NULL,
    creator_id BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name)
  )`,
  `CREATE INDEX versions_egg_sha256 ON versions (egg_sha256)`,
  `CREATE TABLE spiders (
    id BIGINT PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    settings_json TEXT NOT NULL DEFAULT '{}',
    latest_version_id BIGINT REFERENCES versions(id) ON DELETE SET NULL,
    missing BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (project_id, name)
  )`,
];

export class Initial1764000000001 implements MigrationInterface {
  name = 'Initial1764000000001';

  async up(q: QueryRunner): Promise<void> {
    for (const sql of statements) await q.query(dialectSql(q, sql));
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['spiders', 'versions', 'projects', 'api_keys', 'users']) await q.query(`DROP TABLE ${t}`);
  }
}

/** Projects, spiders and jobs written straight into a test database, for tests of the SQL that claims and reports. */
import { claimBatch } from '../../src/dispatch/claim-batch.js';
import { SnowflakeGenerator } from '../../src/ids/snowflake.js';
import type { Db } from '../../src/storage/database.js';
import * as jobsRepo from '../../src/storage/jobs-repo.js';
import * as projectsRepo from '../../src/storage/projects-repo.js';

export const ids = new SnowflakeGenerator(9);

export async function seedProject(db: Db, name: string, spiders: string[]): Promise<{ projectId: string; spiderIds: Map<string, string> }> {
  const projectId = ids.next();
  await projectsRepo.insertProject(db, { id: projectId, name, ownerId: undefined });
  await projectsRepo.replaceVersion(db, { id: ids.next(), projectId, name: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1, settingsModule: 'x.settings', spiders, creatorId: undefined });
  await projectsRepo.syncSpiders(db, projectId, () => ids.next());
  const spiderIds = new Map<string, string>();
  for (const s of spiders) spiderIds.set(s, (await projectsRepo.findSpider(db, projectId, s))!.id);
  return { projectId, spiderIds };
}

export async function addJob(db: Db, projectId: string, spiderId: string, over: { tag?: string; priority?: number } = {}): Promise<string> {
  const id = ids.next();
  await jobsRepo.insertJob(db, {
    id, key: id, projectId, spiderId, versionName: 'r1', eggSha256: 'a'.repeat(64), eggSize: 1, settingsModule: 'x.settings',
    priority: over.priority ?? 0, tag: over.tag ?? '', args: {}, settings: {}, timeoutSeconds: 60, attempt: 1,
  });
  return id;
}

/** One job for one agent with one free slot. */
export async function claimNextJob(db: Db, who: { nodeId: string; sessionId: string; tags: string[] }) {
  return (await claimBatch(db, who.tags, [{ nodeId: who.nodeId, sessionId: who.sessionId, free: 1 }])).jobs.get(who.sessionId)![0];
}

export async function setSpiderSettings(db: Db, spiderId: string, settings: Record<string, unknown>) {
  await projectsRepo.updateSpiderSettings(db, spiderId, JSON.stringify(settings));
}

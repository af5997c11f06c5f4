/** A job row as the API's Job message (shared by the Job API and agent assignments). */
import { Job_State, type Job } from '../../gen/scrapydd/v1/job.js';
import { jobName, retriedKey } from '../domain/jobs/job-names.js';
import type { JobRow } from '../storage/jobs-repo.js';

export function jobToProto(j: JobRow): Job {
  const retried = retriedKey(j.key, j.attempt);
  return {
    name: jobName(j.project, j.spider, j.key),
    state: Job_State[j.state],
    version: `projects/${j.project}/versions/${j.versionName}`,
    args: j.args,
    scrapySettings: j.settings,
    priority: j.priority,
    node: j.nodeId ? `nodes/${j.nodeId}` : '',
    trigger: j.triggerId ? `projects/${j.project}/spiders/${j.spider}/triggers/${j.triggerId}` : '',
    attempt: j.attempt,
    warning: j.warning,
    exitCode: j.exitCode ?? 0,
    itemCount: String(j.itemCount),
    closeReason: j.closeReason,
    pid: j.pid ?? 0,
    logUrl: `/logs/${j.project}/${j.spider}/${j.key}.log`,
    itemsUrl: `/items/${j.project}/${j.spider}/${j.key}.jl`,
    createTime: j.createTime,
    startTime: j.startTime,
    endTime: j.endTime,
    statsJson: j.statsJson,
    logLineCount: String(j.logLineCount),
    retryOf: retried === undefined ? '' : jobName(j.project, j.spider, retried),
  };
}

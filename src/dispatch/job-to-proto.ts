/** A job row as the API's Job message (shared by the Job API and agent assignments). */
import { Job_State, WebhookDelivery_State, type Job, type WebhookDelivery } from '../../gen/scrapydd/v1/job.js';
import { jobName, retriedKey } from '../domain/jobs/job-names.js';
import type { JobRow } from '../storage/jobs-repo.js';
import type { DeliveryRow } from '../storage/webhooks-repo.js';

/** `delivery`: the job's webhook delivery, when the caller looked it up (the Job API does; assignments do not). */
export function jobToProto(j: JobRow, delivery?: DeliveryRow): Job {
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
    webhookDelivery: delivery && deliveryToProto(delivery),
  };
}

export function deliveryToProto(d: DeliveryRow): WebhookDelivery {
  const retrying = d.state === 'DELIVERING' && d.itemAttempts > 0;
  return {
    state: WebhookDelivery_State[d.state],
    deliveredItems: String(d.nextIndex),
    totalItems: String(d.totalItems),
    attempts: d.attempts,
    lastError: d.lastError,
    payloadUrl: d.payloadUrl,
    nextAttemptTime: retrying ? d.nextAttemptTime : undefined,
  };
}

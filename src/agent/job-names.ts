/** Job names as the agent gets them (projects/{p}/spiders/{s}/jobs/{j}, or a bare job key) and stop signals. */

const ID = /^[A-Za-z0-9_.-]{1,100}$/;

export interface AgentJobName {
  readonly project: string;
  readonly spider: string;
  readonly key: string;
}

/** Parses a full job name; the ids must be safe as path segments. */
export function parseAgentJobName(name: string): AgentJobName {
  const m = /^projects\/([^/]+)\/spiders\/([^/]+)\/jobs\/([^/]+)$/.exec(name);
  const ok = m && [m[1], m[2], m[3]].every((id) => ID.test(id!) && !/^\.+$/.test(id!));
  if (!m || !ok) throw new Error(`'${name}' is not a job name (projects/{project}/spiders/{spider}/jobs/{job})`);
  return { project: m[1]!, spider: m[2]!, key: m[3]! };
}

/** The job key of a full job name, or the value itself when it is already a bare key (JobCancel, JobKill). */
export function jobKeyOf(nameOrKey: string): string {
  const i = nameOrKey.lastIndexOf('/jobs/');
  return i === -1 ? nameOrKey : nameOrKey.slice(i + '/jobs/'.length);
}

export type StopSignal = 'INT' | 'TERM' | 'KILL';

/** JobCancel.signal ('INT', 'SIGTERM', 'kill', '' ...) as the runner takes it; INT by default. */
export function stopSignal(value: string): StopSignal {
  const s = value.trim().toUpperCase().replace(/^SIG/, '');
  return s === 'TERM' || s === 'KILL' ? s : 'INT';
}

/** Trigger resource names: projects/{project}/spiders/{spider}/triggers/{trigger}, the trigger id a snowflake. */
import { InvalidArgument } from '../../errors/domain-error.js';
import { checkId, parseName } from '../names.js';

export const triggerName = (project: string, spider: string, trigger: string) => `projects/${project}/spiders/${spider}/triggers/${trigger}`;

export function parseTriggerName(name: string, field = 'name'): { project: string; spider: string; trigger: string } {
  const [project, spider, trigger] = parseName(name, ['projects', 'spiders', 'triggers'], field);
  if (!/^\d{1,20}$/.test(trigger!)) throw new InvalidArgument(`trigger id '${trigger}' is not valid: triggers have numeric ids`, { field, reason: 'INVALID_NAME' });
  return { project: checkId(project!, 'project', field), spider: checkId(spider!, 'spider', field), trigger: trigger! };
}

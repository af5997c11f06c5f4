/**
 * The effective [server] configuration as the admin's overview shows it:
 * every schema key with its value, default and source. Secrets never leave
 * here: a key the schema marks secret, or whose name looks like one, has no
 * value (only whether it is set), and a database URL loses its password.
 */
import type { ServerSetting } from '../../gen/scrapydd/v1/server.js';
import { describeDatabaseUrl } from '../config/database-url.js';
import { SERVER_KEYS } from '../config/schema.js';
import type { ServerConfig } from '../config/types.js';

/** Key names that hold credentials whatever the schema says (a safety net for keys added later). */
const SECRET_LIKE = /passw|secret|token|api_?key|private|credential/i;

export function serverSettingsOverview(config: ServerConfig): ServerSetting[] {
  return config.settings.map((s) => {
    const spec = SERVER_KEYS[s.key];
    const redacted = s.secret || spec?.secret === true || SECRET_LIKE.test(s.key);
    let value = redacted ? '' : (s.value ?? spec?.default ?? '');
    if (s.key === 'database_url' && value !== '') value = describeDatabaseUrl(value);
    return {
      key: s.key,
      value,
      defaultValue: redacted ? '' : (spec?.default ?? ''),
      isDefault: !s.isSet,
      redacted: redacted && s.isSet,
      source: s.source,
      description: spec?.description ?? '',
    };
  });
}

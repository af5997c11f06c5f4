/** Runs a CLI command against the server's database directly, with the server's configuration. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import type { AppContext } from '../server/app-context.js';

export async function withApp<T>(program: Command, fn: (app: AppContext) => Promise<T>): Promise<T> {
  const config = loadConfig({ configFile: program.opts<{ config?: string }>().config });
  // Loaded on use, so that commands that need no database start without the storage modules.
  const [{ openAppContext }, { createLogger }] = await Promise.all([import('../server/app-context.js'), import('../server/logging.js')]);
  const logger = createLogger({ debug: config.server.debug, format: config.server.logFormat, name: 'scrapydd' });
  logger.level = config.server.debug ? 'debug' : 'warn';
  const app = await openAppContext(config.server, logger);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

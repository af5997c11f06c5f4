/** `scrapydd server`: runs the server until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('run the scrapydd server (gRPC, REST, scrapyd API and web UI on one port)')
    .option('--bind-address <address>', 'address to listen on (bind_address)')
    .option('--bind-port <port>', 'port to listen on (bind_port)')
    .option('--database-url <url>', 'sqlite:///file.db or postgresql://user@host/db (database_url)')
    .option('--data-dir <dir>', 'where eggs and other blobs are kept (data_dir)')
    .option('--debug', 'log at debug level (debug = true)')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const config = loadConfig({ configFile: program.opts<{ config?: string }>().config, flags: { server: flags } });
      // Loaded here, not at the top, so the other commands start without the server's modules.
      const [{ createLogger }, { startServer }] = await Promise.all([import('../server/logging.js'), import('../server/server.js')]);
      const logger = createLogger({ debug: config.server.debug, format: config.server.logFormat, name: 'scrapydd-server' });
      if (!config.server.enableAuthentication) {
        logger.warn('enable_authentication = false: every caller acts as an admin; use this only on a trusted machine');
      }
      const server = await startServer(config.server, logger);
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        await server.close();
        logger.flush();
        process.exit(0);
      };
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGTERM', () => void stop('SIGTERM'));
    });
}

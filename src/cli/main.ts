#!/usr/bin/env node
/** The `scrapydd` command. */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/load.js';
import { DeployError } from '../deploy/deploy-error.js';
import { DomainError } from '../errors/domain-error.js';
import { PACKAGE_VERSION } from '../package-root.js';
import { registerNodeCommands } from './node-commands.js';
import { registerAgentCommand } from './agent-command.js';
import { registerCertCommand } from './cert-command.js';
import { registerDeployCommands } from './deploy-commands.js';
import { registerServerCommand } from './server-command.js';
import { registerUserCommands } from './user-commands.js';

const program = new Command('scrapydd')
  .description('scrapydd: a distributed scheduler for Scrapy spiders')
  .version(PACKAGE_VERSION)
  .option('-c, --config <file>', 'read this scrapydd.conf after the standard locations')
  .showHelpAfterError()
  .exitOverride();

registerServerCommand(program);
registerUserCommands(program);
registerCertCommand(program);
registerNodeCommands(program);
registerAgentCommand(program);
registerDeployCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof DeployError) {
    process.stderr.write(`scrapydd: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  if (err instanceof ConfigError || err instanceof DomainError) {
    process.stderr.write(`scrapydd: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`scrapydd: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

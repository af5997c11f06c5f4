/** `scrapydd adduser` and `scrapydd passwd`: accounts made on the server machine. */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { withApp } from './with-app.js';
import { readSecret } from './read-secret.js';

/** Loaded on use, so the other commands start without the user service. */
const users = () => import('../domain/users/user-service.js');

async function newPassword(): Promise<string> {
  const password = await readSecret('Password: ');
  if (process.stdin.isTTY) {
    const again = await readSecret('Password again: ');
    if (again !== password) throw new Error('the passwords differ');
  }
  return password;
}

export function registerUserCommands(program: Command): void {
  program
    .command('adduser')
    .description('create a user; the password is prompted for, or read from standard input when it is not a terminal')
    .argument('<name>', 'login name ([A-Za-z0-9_.-], at most 64)')
    .option('--admin', 'make the user an admin')
    .action(async (name: string, flags: { admin?: boolean }) => {
      const { createUser } = await users();
      await withApp(program, async (app) => {
        const password = await newPassword();
        await createUser(app.deps, undefined, { username: name, password, admin: flags.admin === true });
      });
      process.stdout.write(`user '${name}' created${flags.admin ? ' (admin)' : ''}\n`);
    });

  program
    .command('passwd')
    .description('set a user\'s password (prompted, or from standard input)')
    .argument('<name>', 'login name')
    .action(async (name: string) => {
      const { resetPassword } = await users();
      await withApp(program, async (app) => resetPassword(app.deps, name, await newPassword()));
      process.stdout.write(`password of '${name}' changed\n`);
    });

  program
    .command('init-admin')
    .description('on a fresh installation only: create an admin with a random password, printed once')
    .argument('[name]', 'login name', 'admin')
    .action(async (name: string) => {
      const { createUser, noUsersYet } = await users();
      const password = randomBytes(12).toString('base64url');
      const created = await withApp(program, async (app) => {
        if (!(await noUsersYet(app.deps))) return false;
        await createUser(app.deps, undefined, { username: name, password, admin: true });
        return true;
      });
      if (created) {
        process.stdout.write(
          `\nCreated the first admin. This password is shown only now; change it with 'scrapydd passwd ${name}'.\n` +
            `  user:     ${name}\n  password: ${password}\n\n`,
        );
      }
    });
}

import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { prompt, readStdin } from '../options.js';
import { addRegistryOptions, registryAccess } from '../registry-options.js';
import { ChrunError } from '../../util/index.js';

export function defineLogin(cmd: Command): Command {
  return addRegistryOptions(
    cmd
      .description('log in to a registry (the secret goes to a credential helper or config.json)')
      .argument('[server]', 'the registry (default: Docker Hub)')
      .option('-u, --username <user>', 'user name')
      .option(
        '-p, --password <password>',
        'password (visible to other users: prefer --password-stdin)',
      )
      .option('--password-stdin', 'read the password from standard input'),
  ).action(
    async (
      server: string | undefined,
      opts: {
        username?: string;
        password?: string;
        passwordStdin?: boolean;
        tlsVerify: boolean;
        authfile?: string;
      },
      command: Command,
    ) => {
      const ctx = contextFrom(command);
      if (opts.password !== undefined && opts.passwordStdin === true) {
        throw new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          'login: --password and --password-stdin are mutually exclusive',
        );
      }
      // On a terminal, ask for what is missing, as docker login does.
      const interactive = process.stdin.isTTY && opts.passwordStdin !== true;
      let username = opts.username;
      if (username === undefined && interactive) username = await prompt('Username: ');
      if (username === undefined || username === '') {
        throw new ChrunError('CHRUN_INVALID_ARGUMENT', 'login: give a user name with -u');
      }
      let password = opts.password;
      if (opts.passwordStdin === true) password = (await readStdin()).replace(/\r?\n$/, '');
      else if (password === undefined && interactive) password = await prompt('Password: ', true);
      if (password === undefined) {
        throw new ChrunError(
          'CHRUN_INVALID_ARGUMENT',
          'login: give a password with --password-stdin (or -p)',
        );
      }
      if (opts.password !== undefined)
        process.stderr.write(
          'WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n',
        );
      const engine = await ctx.engine();
      await engine.images.login(server, username, password, registryAccess(opts));
      ctx.out('Login Succeeded');
    },
  );
}

export function register(program: Command): void {
  defineLogin(program.command('login'));
}

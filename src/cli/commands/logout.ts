import type { Command } from 'commander';
import { contextFrom } from '../context.js';
import { addRegistryOptions, registryAccess } from '../registry-options.js';

export function defineLogout(cmd: Command): Command {
  return addRegistryOptions(
    cmd
      .description('log out from a registry')
      .argument('[server]', 'the registry (default: Docker Hub)'),
    { tls: false },
  ).action(async (server: string | undefined, opts: { authfile?: string }, command: Command) => {
    const ctx = contextFrom(command);
    const engine = await ctx.engine();
    const r = await engine.images.logout(server, registryAccess(opts));
    ctx.out(r.removed ? `Removing login credentials for ${r.host}` : `Not logged in to ${r.host}`);
  });
}

export function register(program: Command): void {
  defineLogout(program.command('logout'));
}

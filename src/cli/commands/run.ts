import { Option, type Command } from 'commander';
import { contextFrom } from '../context.js';
import { runAttached, type RunFlags } from '../run-action.js';

const many = (v: string, acc: string[]): string[] => [...acc, v];

function defineRun(cmd: Command): Command {
  return cmd
    .description('run a command in a new container')
    .helpOption('--help', 'show help')
    .argument('<image>', 'the image (pulled when missing)')
    .argument('[command...]', "the command and its arguments (default: the image's)")
    .passThroughOptions()
    .option('-i, --interactive', "keep the container's standard input open")
    .option('-t, --tty', 'give the container a terminal')
    .option('--rm', 'remove the container when it ends')
    .option('--name <name>', 'a name for the container')
    .option('-e, --env <NAME[=value]>', 'set an environment variable', many, [])
    .option('--env-file <file>', 'read environment variables from a file', many, [])
    .option('--entrypoint <command>', "replace the image's entrypoint ('' clears it)")
    .option('-w, --workdir <dir>', 'the working directory (created if missing)')
    .option('-u, --user <user[:group]>', 'the user (name or uid, and group)')
    .option('-h, --hostname <name>', "the container's hostname")
    .option('-v, --volume <host:container[:ro]>', 'bind-mount a host directory', many, [])
    .option('--tmpfs <path[:options]>', 'mount a tmpfs', many, [])
    .option('--read-only', 'mount the root file system read-only')
    .option('--init', 'run a tiny init as PID 1 that forwards signals and reaps zombies')
    .addOption(
      new Option(
        '--network <mode>',
        'none: a network namespace of its own with only lo (the default, until chrun has bridge networks); host: the host network',
      ).choices(['none', 'host']),
    )
    .addOption(
      new Option(
        '--isolation <level>',
        'full: namespaces, pivot_root, capabilities, seccomp, cgroups; chroot: a chrooted process and nothing else (NOT a security boundary)',
      )
        .choices(['full', 'chroot'])
        .default('full'),
    )
    .option('--privileged', 'all capabilities and devices, no seccomp, nothing masked')
    .option('--cap-add <cap>', 'add a capability', many, [])
    .option('--cap-drop <cap>', "drop a capability ('ALL' for all)", many, [])
    .option(
      '--security-opt <opt>',
      'seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false]',
      many,
      [],
    )
    .option('-m, --memory <bytes>', 'memory limit (e.g. 512m)')
    .option('--memory-swap <bytes>', 'memory plus swap limit (-1: unlimited swap)')
    .option('--cpus <number>', 'CPUs the container may use (e.g. 1.5)')
    .option('--cpu-shares <weight>', 'relative CPU weight')
    .option('--pids-limit <n>', 'maximum number of processes (-1: unlimited)')
    .option('--ulimit <name=soft[:hard]>', 'a resource limit', many, [])
    .addOption(
      new Option('--pull <when>', 'pull the image before running')
        .choices(['missing', 'always', 'never'])
        .default('missing'),
    )
    .option(
      '--explain',
      'print each isolation step taken, with its duration in microseconds, on stderr',
    )
    .action((image: string, command: string[], f: RunFlags, c: Command) =>
      runAttached(contextFrom(c), image, command, f),
    );
}

export function register(program: Command): void {
  defineRun(program.command('run'));
}

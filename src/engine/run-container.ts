import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ImageRecord } from '../image/index.js';
import { parseSecurityOpts, parseSeccompProfile, type DockerSeccompProfile } from '../oci/index.js';
import type { ContainerProcess, Runtime } from '../runtime/index.js';
import type { SnapshotStore } from '../snapshots/index.js';
import { ChrunError, errnoCode, isChrunError } from '../util/index.js';
import { Container, type ContainerExit } from './container.js';
import { containerCommand, containerSpec, type ContainerSpec } from './container-spec.js';
import { ContainerStore, newContainerId } from './container-store.js';
import { parseEnvFile } from './env.js';
import { writeEtcFiles } from './etc-files.js';
import { hostDevices, hostFacts } from './host-facts.js';
import type { EngineImages } from './images.js';
import { imageChainIds } from './image-unpacker.js';
import type { EnginePaths } from './paths.js';
import { mkdirInRoot } from './root-dirs.js';
import type { ContainerRunOptions } from './run-options.js';
import { resolveUser } from './user.js';

/** The parts of an engine a run needs (built lazily by Engine). */
export interface RunParts {
  paths: EnginePaths;
  images: EngineImages;
  snapshots(): SnapshotStore;
  containers(): ContainerStore;
  runtime(): Runtime;
}

/** The image record, pulled first when it is missing (or always, with pull: 'always'). */
async function findImage(
  parts: RunParts,
  image: string,
  o: ContainerRunOptions,
): Promise<ImageRecord> {
  const policy = o.pull ?? 'missing';
  if (policy !== 'always') {
    const found = await parts.images.store.find(image);
    if (found !== undefined) return found;
    if (policy === 'never') return await parts.images.resolve(image);
    o.onPullStart?.(image);
  }
  const pulled = await parts.images.pull(
    image,
    o.onPull === undefined ? {} : { onProgress: o.onPull },
  );
  return pulled.record;
}

async function readEnvFiles(files: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new ChrunError(
        'CHRUN_INVALID_ARGUMENT',
        `open ${file}: ${errnoCode(err) === 'ENOENT' ? 'no such file or directory' : String(err)}`,
        { cause: err },
      );
    }
    out.push(...parseEnvFile(text, file));
  }
  return out;
}

async function readSeccompFile(
  opts: readonly string[],
): Promise<{ profile?: DockerSeccompProfile | undefined }> {
  const sec = parseSecurityOpts(opts);
  if (sec.seccomp.kind !== 'file') return {};
  const file = sec.seccomp.path;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ChrunError(
      'CHRUN_INVALID_ARGUMENT',
      `opening seccomp profile (${file}) failed: ${errnoCode(err) === 'ENOENT' ? 'no such file or directory' : String(err)}`,
      { cause: err },
    );
  }
  return { profile: parseSeccompProfile(text, file) };
}

/**
 * `engine.run(image, options)`: the image (pulled if missing), its layers unpacked, a root
 * of the container's own prepared over them, the spec made from the image's config and the
 * options, then the runtime. Resolves once the container's process runs; the returned
 * Container's wait() resolves when it has ended and been cleaned up.
 */
export async function runContainer(
  parts: RunParts,
  image: string,
  o: ContainerRunOptions = {},
): Promise<Container> {
  const phases: { what: string; usec: number }[] = [];
  let t = performance.now();
  const phase = (what: string): void => {
    const now = performance.now();
    phases.push({ what, usec: (now - t) * 1000 });
    t = now;
  };
  const isolation = o.isolation ?? 'full';
  const network = o.network ?? 'none';

  const record = await findImage(parts, image, o);
  const manifest = await parts.images.store.manifest(record);
  const config = await parts.images.store.config(record, manifest);
  const chainIds = imageChainIds(config.rootfs.diff_ids);
  const snapshots = parts.snapshots();
  phase(`resolve image ${image} (${record.id.slice(7, 19)}, ${chainIds.length} layers)`);
  if (snapshots.missing(chainIds).length > 0) {
    await parts.images.unpacker?.(await parts.images.store.unpackRequest(record));
    phase('unpack the layers missing from the snapshot store');
  }

  // read what the options name before anything is created
  const envFiles = await readEnvFiles(o.envFile ?? []);
  const seccomp = await readSeccompFile(o.securityOpt ?? []);

  const store = parts.containers();
  const id = newContainerId();
  const info = store.create({
    id,
    ...(o.name !== undefined ? { name: o.name } : {}),
    image,
    imageId: record.id,
    command: containerCommand(config.config, o),
    created: new Date().toISOString(),
    status: 'created',
    autoRemove: o.remove === true,
    isolation,
    snapshot: id,
    holder: ContainerStore.self(),
  });
  phase(`record container ${info.name}`);

  let mountedRoot: string | undefined;
  let prepared = false;
  const undo = (): void => {
    if (mountedRoot !== undefined) snapshots.unmountRoot(id);
    if (prepared) snapshots.remove(id);
    store.remove(info);
  };
  let proc: ContainerProcess;
  let made: ContainerSpec;
  try {
    const root = snapshots.prepare(id, chainIds, { volatile: o.remove === true });
    prepared = true;
    phase(`prepare the root (${root.snapshotter}: ${chainIds.length} layers, a writable layer)`);

    const [passwd, group] = await Promise.all([
      snapshots.readImageFile(chainIds, '/etc/passwd'),
      snapshots.readImageFile(chainIds, '/etc/group'),
    ]);
    const user = resolveUser(o.user ?? config.config?.User, passwd?.toString(), group?.toString());
    const host = hostFacts();
    const hostname = o.hostname ?? (network === 'host' ? host.hostname : id.slice(0, 12));
    const etc =
      isolation === 'full' ? writeEtcFiles(store.dirOf(id), hostname, network) : undefined;
    made = containerSpec({
      id,
      rootfs: root.rootfs,
      image: config.config,
      options: o,
      user,
      host: o.privileged === true ? { ...host, devices: hostDevices() } : host,
      envFiles,
      ...('profile' in seccomp ? { seccompProfile: seccomp.profile } : {}),
      ...(etc !== undefined ? { etc } : {}),
    });
    for (const dir of made.hostDirs) mkdirSync(dir, { recursive: true });
    phase(`make the spec (user ${user.uid}:${user.gid})`);

    if (isolation === 'chroot') {
      mountedRoot = snapshots.mountRoot(id);
      mkdirInRoot(mountedRoot, made.spec.process!.cwd);
      phase(`mount the root on the host at ${mountedRoot}`);
    }
    proc = await parts.runtime().run(id, path.dirname(root.rootfs), {
      spec: made.spec,
      stdio: o.stdio ? [...o.stdio] : ['pipe', 'pipe', 'pipe'],
      init: o.init === true,
      rawTty: o.tty === true && o.stdio?.[0] === 'inherit',
      ...(isolation === 'full' ? { rootMounts: root.mounts } : {}),
      ...(o.consoleSize !== undefined ? { consoleSize: o.consoleSize } : {}),
      ...(mountedRoot !== undefined ? { orphanUnmounts: [mountedRoot] } : {}),
      // if this process dies, the helper removes what a --rm container leaves
      ...(o.remove === true
        ? {
            orphanTrees: [
              path.join(store.names, info.name),
              path.dirname(root.rootfs),
              store.dirOf(id),
            ],
          }
        : {}),
    });
  } catch (err) {
    if (o.remove === true || !isChrunError(err) || err.code.startsWith('CHRUN_INVALID')) undo();
    else {
      // as docker keeps a container that failed to start: created, with the reason
      try {
        if (mountedRoot !== undefined) snapshots.unmountRoot(id);
        store.update(id, {
          status: 'created',
          error: err.message,
          exitCode:
            err.code === 'CHRUN_EXEC_NOT_FOUND'
              ? 127
              : err.code === 'CHRUN_EXEC_PERMISSION'
                ? 126
                : 125,
          holder: undefined,
        });
      } catch {
        undo();
      }
    }
    throw err;
  }
  const started = new Date().toISOString();
  store.update(id, { status: 'running', started });

  const done: Promise<ContainerExit> = (async () => {
    let exit: ContainerExit;
    try {
      const st = await proc.wait();
      exit = { exitCode: st.exitCode, signal: st.signal, oomKilled: st.oomKilled };
    } finally {
      if (mountedRoot !== undefined) snapshots.unmountRoot(id);
    }
    if (o.remove === true) {
      snapshots.remove(id);
      store.remove(info);
    } else if (store.has(id)) {
      store.update(id, {
        status: 'exited',
        finished: new Date().toISOString(),
        exitCode: exit.exitCode,
        oomKilled: exit.oomKilled,
        holder: undefined,
      });
    }
    return exit;
  })();
  done.catch(() => undefined);
  return new Container(id, info.name, proc, done, phases);
}

/**
 * The image builder for tests: OCI image layouts, OCI archives and `docker save` archives
 * built from Debian's busybox-static plus crafted and hostile layers, deterministic down to
 * the digests.
 *
 *   const image = await buildImage({
 *     layers: [busyboxLayer(), ...craftedLayers('zstd')],
 *     config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['PATH=/bin'] },
 *   });
 *   await writeOciLayout(dir, image, 'latest');            // oci:DIR:latest
 *   await writeDockerArchive(file, image, ['busybox:1']); // docker-archive:FILE
 *   const multi = buildIndex([amd64Image, arm64Image]);    // platform selection
 *
 * CRAFTED_EXPECT says what the root file system must be after busybox + craftedLayers();
 * hostileLayers(kind, { victim }) make layers that try to escape their root.
 */
export {
  buildImage,
  buildIndex,
  buildLayer,
  blobsOf,
  hostPlatform,
  sha256,
  type Built,
  type BuiltImage,
  type BuiltIndex,
  type BuiltLayer,
  type ImageFormat,
  type ImageSpec,
  type LayerSpec,
} from './images/build.js';
export {
  writeOciLayout,
  writeOciArchive,
  type LayoutEntry,
  type WrittenLayout,
} from './images/layout.js';
export {
  writeDockerArchive,
  type DockerArchiveImage,
  type DockerArchiveManifestEntry,
} from './images/docker-archive.js';
export {
  busyboxLayer,
  busyboxEntries,
  busyboxBinary,
  busyboxApplets,
  DEFAULT_APPLETS,
  BUSYBOX,
  FIXTURE_MTIME,
  PASSWD,
  GROUP,
  type BusyboxLayerOptions,
} from './images/busybox.js';
export {
  craftedLayers,
  craftedLowerEntries,
  craftedUpperEntries,
  CRAFTED_EXPECT,
  CAP_NET_RAW,
  BINARY_XATTR,
  LONG_PATH_200,
  LONG_PATH_300,
  LONG_NAME_200,
  LONG_TARGET,
  UNICODE_PATH,
  type ExpectedNode,
} from './images/crafted.js';
export {
  hostileLayers,
  HOSTILE_KINDS,
  type HostileKind,
  type HostileOptions,
} from './images/hostile.js';

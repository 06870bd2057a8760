// Bundles the CLI into one CommonJS file, dist/bundle/chrun.cjs, that bin/chrun runs with a
// V8 code cache (see bin/chrun), with esbuild:
//   node scripts/bundle.mjs   (part of `npm run build:ts`)
// Measured on Node 20 (bench/startup.ts): resolving and reading ~200 ESM modules was most of a
// cold start; one bundle halves it, and a code cache (which Node 20 offers for scripts, not
// for ES modules) takes off ~100 ms more of `chrun run` on this loaded 2-core machine than
// an ES module bundle split per lazy import. Lazy imports stay lazy: esbuild turns them into
// functions run on first use, so only parsing is paid for code a command does not run.
// dist/src stays as tsc writes it, for the tests and the library. koffi (a native addon) and
// undici (loaded by deep path at run time) stay outside.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// a worktree made before esbuild was added has not installed it yet: say what to do
const { build } = await import('esbuild').catch(() => {
  console.error('bundle: esbuild is missing (a devDependency): run `npm ci`, then build again');
  process.exit(1);
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cliOutdir = path.join(root, 'dist', 'bundle');

// esbuild turns each module's default import of a Node built-in (`import path from
// 'node:path'`, in 42 modules) into its own __toESM(require('node:path')), which copies every
// property of the built-in as a getter onto a new object: 53 copies in run.cjs, 2-5 ms of each
// start (measured). One shared copy per built-in does the same.
const BUILTIN_TO_ESM = /__toESM\(require\("(node:[a-z0-9_/]+)"\)(?:, 1)?\)/g;
const SHARED_BUILTINS = `var __chrunBuiltins = new Map();
function __chrunBuiltin(id) {
  let m = __chrunBuiltins.get(id);
  if (m === undefined) __chrunBuiltins.set(id, (m = __toESM(require(id), 1)));
  return m;
}
`;

/**
 * Bundles `entryPoints` (name: source, from the repository root) into OUTDIR/NAME.cjs the way
 * the CLI is bundled; bench/pull.ts bundles its download part with it too.
 */
export async function bundle(entryPoints, outdir) {
  const result = await build({
    absWorkingDir: root,
    entryPoints,
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20.18',
    external: ['koffi', 'undici'],
    // the modules find the package (and the helper) from their own URL
    define: { 'import.meta.url': '__chrunModuleUrl' },
    banner: { js: "const __chrunModuleUrl = require('node:url').pathToFileURL(__filename).href;" },
    legalComments: 'none',
    logLevel: 'warning',
    write: false,
  });
  await mkdir(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    let text = file.text;
    if (text.includes('__toESM(require("node:')) {
      text = text.replace(BUILTIN_TO_ESM, '__chrunBuiltin("$1")');
      // after the banner's line, before anything runs (esbuild's __toESM is called later)
      const at = text.indexOf('\n') + 1;
      text = `${text.slice(0, at)}${SHARED_BUILTINS}${text.slice(at)}`;
    }
    await writeFile(file.path, text);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await rm(cliOutdir, { recursive: true, force: true }); // the code caches of the old bundle too
  // chrun.cjs: the whole CLI; run.cjs: the lean path of `chrun run` (src/cli/lean-run.ts),
  // without commander, which bin/chrun tries first for a `run` command line; layer-worker.cjs:
  // the worker thread that applies layers (src/snapshots/worker-apply.ts), which needs a file
  // of its own to run: the bundle's modules all have the bundle's URL, so it lives beside it.
  await bundle(
    {
      chrun: 'src/cli/main.ts',
      run: 'src/cli/lean-run.ts',
      'layer-worker': 'src/snapshots/layer-worker.ts',
    },
    cliOutdir,
  );
}

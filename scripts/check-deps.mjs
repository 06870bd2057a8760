#!/usr/bin/env node
// Checks the one-way dependency rule of ARCHITECTURE.md on src/:
//   cli > engine > {image, runtime, network} > {registry, content, snapshots, cgroups} > sys > {oci, tar} > util
// A module may import only folders of a lower level, only through their index.ts, and never a
// folder of its own level. Usage: node scripts/check-deps.mjs [--src DIR]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export const LEVELS = {
  util: 0,
  oci: 1,
  tar: 1,
  sys: 2,
  registry: 3,
  content: 3,
  snapshots: 3,
  cgroups: 3,
  image: 4,
  runtime: 4,
  network: 4,
  engine: 5,
  cli: 6,
};

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* walk(p);
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

/** Returns a list of violations ("file: message") for the tree under srcDir. */
export function checkDependencies(srcDir) {
  const violations = [];
  for (const file of walk(srcDir)) {
    const rel = path.relative(srcDir, file);
    const parts = rel.split(path.sep);
    const folder = parts.length > 1 ? parts[0] : undefined; // undefined: src/index.ts
    if (folder !== undefined && !(folder in LEVELS)) {
      violations.push(`${rel}: folder '${folder}' has no level in the dependency rule`);
      continue;
    }
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const imp of info.importedFiles) {
      const spec = imp.fileName;
      if (!spec.startsWith('.')) continue; // node: built-ins and packages
      const target = path.relative(srcDir, path.resolve(path.dirname(file), spec));
      const tparts = target.split(path.sep);
      if (tparts[0] === '..') {
        violations.push(`${rel}: imports '${spec}' from outside src/`);
        continue;
      }
      const tfolder = tparts.length > 1 ? tparts[0] : undefined;
      if (tfolder === folder) continue; // inside the same folder
      if (tfolder === undefined) {
        violations.push(`${rel}: imports the package entry '${spec}'`);
        continue;
      }
      if (!(tfolder in LEVELS)) {
        violations.push(`${rel}: imports unknown folder '${tfolder}'`);
        continue;
      }
      if (tparts.length !== 2 || !/^index\.(js|ts)$/.test(tparts[1])) {
        violations.push(`${rel}: imports '${spec}': enter '${tfolder}/' through its index.ts`);
      }
      if (folder === undefined) continue; // src/index.ts may export any folder
      const from = LEVELS[folder];
      const to = LEVELS[tfolder];
      if (to === from) {
        violations.push(`${rel}: '${folder}' imports '${tfolder}', a folder of the same level`);
      } else if (to > from) {
        violations.push(`${rel}: '${folder}' imports '${tfolder}', a folder above it`);
      }
    }
  }
  return violations;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--src');
  const srcDir = path.resolve(i >= 0 ? process.argv[i + 1] : 'src');
  const violations = checkDependencies(srcDir);
  for (const v of violations) console.error(`dependency rule: ${v}`);
  if (violations.length > 0) process.exit(1);
  console.log(`dependency rule: ok (${srcDir})`);
}

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CLONE_F, M, MNT_F, OP } from '../../../src/sys/protocol.js';
import { FRAME_HEADER, FRAME_MAX, PLAN_MAGIC, PLAN_MAX } from '../../../src/sys/protocol.js';
import { repoRoot } from '../../helpers/cli.js';

const header = readFileSync(path.join(repoRoot, 'native/src/protocol.h'), 'utf8');

function defines(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of header.matchAll(/^#define (\w+) (.+?)(?:\s*\/\*.*)?$/gm))
    out.set(m[1]!, m[2]!.trim());
  return out;
}

function num(v: string | undefined): number {
  assert.ok(v !== undefined);
  // 0x31504843u, (1u << 20), 16, ...
  return Number(eval(v.replace(/u\b/g, '')));
}

test('every op code agrees with native/src/protocol.h', () => {
  const d = defines();
  const cOps = [...d.keys()].filter((k) => k.startsWith('OP_') && k !== 'OP_MAX');
  for (const [name, code] of Object.entries(OP)) {
    const c = `OP_${name.toUpperCase().replace(/-/g, '_')}`;
    assert.equal(num(d.get(c)), code, c);
  }
  assert.equal(cOps.length, Object.keys(OP).length, 'the same number of ops on both sides');
  assert.ok(Math.max(...Object.values(OP)) < num(d.get('OP_MAX')));
});

test('message types, flags and bounds agree with native/src/protocol.h', () => {
  const d = defines();
  for (const [name, code] of Object.entries(M)) assert.equal(num(d.get(`M_${name}`)), code, name);
  assert.equal(num(d.get('CLONE_F_ATTACHED')), CLONE_F.ATTACHED);
  assert.equal(num(d.get('CLONE_F_DETACH')), CLONE_F.DETACH);
  for (const [k, v] of Object.entries(MNT_F)) assert.equal(num(d.get(`MNT_F_${k}`)), v, k);
  assert.equal(num(d.get('PLAN_MAGIC')), PLAN_MAGIC);
  assert.equal(num(d.get('FRAME_HEADER')), FRAME_HEADER);
  assert.equal(num(d.get('FRAME_MAX')), FRAME_MAX);
  assert.equal(num(d.get('PLAN_MAX')), PLAN_MAX);
});

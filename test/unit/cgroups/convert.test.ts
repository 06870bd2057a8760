import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blkioWeightToIoWeight,
  cpuSharesToWeight,
  memorySwapToV2,
} from '../../../src/cgroups/index.js';

test('cpu shares to weight: runc 1.3 conversion, default 1024 maps to 100', () => {
  const cases: [number, number][] = [
    [0, 0],
    [1, 1],
    [2, 1],
    [3, 2],
    [512, 59],
    [1024, 100],
    [2048, 174],
    [262143, 10000],
    [262144, 10000],
    [262145, 10000],
  ];
  for (const [shares, weight] of cases)
    assert.equal(cpuSharesToWeight(shares), weight, `shares ${shares}`);
});

test('blkio weight to io weight', () => {
  assert.equal(blkioWeightToIoWeight(0), 0);
  assert.equal(blkioWeightToIoWeight(10), 1);
  assert.equal(blkioWeightToIoWeight(500), 4950);
  assert.equal(blkioWeightToIoWeight(1000), 10000);
});

test('memory+swap to v2 swap', () => {
  assert.equal(memorySwapToV2(0, 0), 0);
  assert.equal(memorySwapToV2(-1, 0), -1);
  assert.equal(memorySwapToV2(0, -1), -1);
  assert.equal(memorySwapToV2(-1, 1000), -1);
  assert.equal(memorySwapToV2(1000, 1000), 0);
  assert.equal(memorySwapToV2(3000, 1000), 2000);
  assert.equal(memorySwapToV2(3000, -1), 3000);
  assert.throws(() => memorySwapToV2(1000, 0), /without memory limit/);
  assert.throws(() => memorySwapToV2(500, 1000), /should be >= memory limit/);
  assert.throws(() => memorySwapToV2(500, -5), /invalid memory value/);
});

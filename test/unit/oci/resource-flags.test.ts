import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBytes, parseNanoCpus, resourcesFromFlags } from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

const host = { cpus: 2 };
const MiB = 1024 * 1024;
const invalid = (re: RegExp) => (err: unknown) =>
  isChrunError(err, 'CHRUN_INVALID_ARGUMENT') && re.test(err.message);

test('sizes with docker units', () => {
  assert.equal(parseBytes('512m'), 512 * MiB);
  assert.equal(parseBytes('512M'), 512 * MiB);
  assert.equal(parseBytes('1g'), 1024 * MiB);
  assert.equal(parseBytes('1.5g'), 1536 * MiB);
  assert.equal(parseBytes('64k'), 65536);
  assert.equal(parseBytes('64KiB'), 65536);
  assert.equal(parseBytes('100b'), 100);
  assert.equal(parseBytes('100'), 100);
  assert.equal(parseBytes('6 MB'), 6 * MiB);
  assert.throws(
    () => parseBytes('12x'),
    invalid(/^invalid argument "12x" for "--memory" flag: invalid size: '12x'$/),
  );
  assert.throws(() => parseBytes('-5m'), invalid(/invalid size/));
});

test('--cpus as nano-CPUs', () => {
  assert.equal(parseNanoCpus('1.5'), 1.5e9);
  assert.equal(parseNanoCpus('.5'), 5e8);
  assert.equal(parseNanoCpus('2'), 2e9);
  assert.equal(parseNanoCpus('3/2'), 1.5e9);
  assert.equal(parseNanoCpus('0.000000001'), 1);
  assert.throws(() => parseNanoCpus('0.0000000001'), invalid(/value is too precise/));
  assert.throws(() => parseNanoCpus('abc'), invalid(/failed to parse abc as a rational number/));
  assert.throws(() => parseNanoCpus('1/0'), invalid(/rational number/));
});

test('--memory alone: swap defaults to twice the memory', () => {
  assert.deepEqual(resourcesFromFlags({ memory: '512m' }, host), {
    resources: { memory: { limit: 512 * MiB, swap: 1024 * MiB } },
    warnings: [],
  });
});

test('--memory-swap: -1 is unlimited, a size is memory plus swap', () => {
  assert.deepEqual(
    resourcesFromFlags({ memory: '512m', memorySwap: '-1' }, host).resources.memory,
    {
      limit: 512 * MiB,
      swap: -1,
    },
  );
  assert.deepEqual(
    resourcesFromFlags({ memory: '512m', memorySwap: '1g' }, host).resources.memory,
    {
      limit: 512 * MiB,
      swap: 1024 * MiB,
    },
  );
  assert.deepEqual(
    resourcesFromFlags({ memory: '512m', memorySwap: '512m' }, host).resources.memory,
    {
      limit: 512 * MiB,
      swap: 512 * MiB,
    },
  );
});

test("docker's memory errors", () => {
  assert.throws(
    () => resourcesFromFlags({ memory: '4m' }, host),
    invalid(/^minimum memory limit allowed is 6MB$/),
  );
  assert.throws(
    () => resourcesFromFlags({ memory: '512m', memorySwap: '256m' }, host),
    invalid(/^minimum memoryswap limit should be larger than memory limit, see usage$/),
  );
  assert.throws(
    () => resourcesFromFlags({ memorySwap: '1g' }, host),
    invalid(/^you should always set the Memory limit when using Memoryswap limit, see usage$/),
  );
  assert.throws(
    () => resourcesFromFlags({ memoryReservation: '1m' }, host),
    invalid(/minimum memory reservation allowed is 6MB/),
  );
  assert.throws(
    () => resourcesFromFlags({ memory: '64m', memoryReservation: '128m' }, host),
    invalid(/minimum memory limit can not be less than memory reservation limit/),
  );
  assert.throws(
    () => resourcesFromFlags({ memorySwappiness: 101 }, host),
    invalid(/valid memory swappiness range is 0-100/),
  );
  assert.throws(
    () => resourcesFromFlags({ memory: 'lots' }, host),
    invalid(/for "--memory" flag: invalid size: 'lots'/),
  );
  assert.throws(
    () => resourcesFromFlags({ memory: '1g', memorySwap: 'x' }, host),
    invalid(/for "--memory-swap" flag/),
  );
});

test('--cpus becomes quota over a 100000 µs period', () => {
  assert.deepEqual(resourcesFromFlags({ cpus: '1.5' }, host).resources, {
    cpu: { quota: 150000, period: 100000 },
  });
  assert.deepEqual(resourcesFromFlags({ cpus: '0.01' }, host).resources, {
    cpu: { quota: 1000, period: 100000 },
  });
  assert.throws(
    () => resourcesFromFlags({ cpus: '3' }, host),
    invalid(/^range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpus: '0.001' }, host),
    invalid(/range of CPUs is from 0.01/),
  );
  assert.throws(() => resourcesFromFlags({ cpus: '-1' }, host), invalid(/range of CPUs/));
  assert.throws(
    () => resourcesFromFlags({ cpus: '1', cpuPeriod: 50000 }, host),
    invalid(/conflicting options: Nano CPUs and CPU Period cannot both be set/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpus: '1', cpuQuota: 50000 }, host),
    invalid(/conflicting options: Nano CPUs and CPU Quota cannot both be set/),
  );
});

test('--cpu-shares, --cpu-period, --cpu-quota, --cpuset-cpus', () => {
  assert.deepEqual(
    resourcesFromFlags({ cpuShares: '512', cpusetCpus: '0-1', cpusetMems: '0' }, host).resources,
    {
      cpu: { shares: 512, cpus: '0-1', mems: '0' },
    },
  );
  const clamped = resourcesFromFlags({ cpuShares: -5 }, host);
  assert.equal(clamped.resources.cpu?.shares, 2);
  assert.match(
    clamped.warnings[0] ?? '',
    /changing requested CPUShares of -5 to minimum allowed of 2/,
  );
  assert.equal(resourcesFromFlags({ cpuShares: 300000 }, host).resources.cpu?.shares, 262144);
  assert.throws(
    () => resourcesFromFlags({ cpuShares: 'many' }, host),
    invalid(/"--cpu-shares" flag: want an integer/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpuPeriod: 500 }, host),
    invalid(/CPU cfs period can not be less than 1ms/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpuQuota: 999 }, host),
    invalid(/CPU cfs quota can not be less than 1ms/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpusetCpus: '0-' }, host),
    invalid(/invalid value 0- for cpuset cpus/),
  );
  assert.throws(
    () => resourcesFromFlags({ cpusetCpus: '3' }, host),
    invalid(/requested CPUs are not available - requested 3, available: 0-1/),
  );
});

test('--pids-limit: 0 and -1 are unlimited', () => {
  assert.deepEqual(resourcesFromFlags({ pidsLimit: '100' }, host).resources, {
    pids: { limit: 100 },
  });
  assert.deepEqual(resourcesFromFlags({ pidsLimit: -1 }, host).resources, {});
  assert.deepEqual(resourcesFromFlags({ pidsLimit: 0 }, host).resources, {});
  assert.deepEqual(resourcesFromFlags({}, host), { resources: {}, warnings: [] });
});

test('--blkio-weight', () => {
  assert.deepEqual(resourcesFromFlags({ blkioWeight: 300 }, host).resources, {
    blockIO: { weight: 300 },
  });
  assert.throws(
    () => resourcesFromFlags({ blkioWeight: 5 }, host),
    invalid(/range of blkio weight is from 10 to 1000/),
  );
});

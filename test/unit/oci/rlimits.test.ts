import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RLIM_INFINITY,
  parseProcLimits,
  parseUlimit,
  resolveRlimits,
} from '../../../src/oci/index.js';
import { isChrunError } from '../../../src/util/index.js';

/** This host's /proc/self/limits. */
const HOST = `Limit                     Soft Limit           Hard Limit           Units     
Max cpu time              unlimited            unlimited            seconds   
Max file size             unlimited            unlimited            bytes     
Max data size             unlimited            unlimited            bytes     
Max stack size            8388608              unlimited            bytes     
Max core file size        0                    unlimited            bytes     
Max resident set          unlimited            unlimited            bytes     
Max processes             96343                96343                processes 
Max open files            20000                20000                files     
Max locked memory         8388608              8388608              bytes     
Max address space         unlimited            unlimited            bytes     
Max file locks            unlimited            unlimited            locks     
Max pending signals       96343                96343                signals   
Max msgqueue size         819200               819200               bytes     
Max nice priority         0                    0                    
Max realtime priority     0                    0                    
Max realtime timeout      unlimited            unlimited            us        
`;

test('--ulimit name=soft[:hard] as docker parses it', () => {
  assert.deepEqual(parseUlimit('nofile=1024:2048'), {
    type: 'RLIMIT_NOFILE',
    soft: 1024,
    hard: 2048,
  });
  assert.deepEqual(parseUlimit('nproc=512'), { type: 'RLIMIT_NPROC', soft: 512, hard: 512 });
  assert.deepEqual(parseUlimit('core=-1'), {
    type: 'RLIMIT_CORE',
    soft: RLIM_INFINITY,
    hard: RLIM_INFINITY,
  });
  assert.deepEqual(parseUlimit('stack=8192:-1'), {
    type: 'RLIMIT_STACK',
    soft: 8192,
    hard: RLIM_INFINITY,
  });
  assert.throws(() => parseUlimit('nofile'), /^ChrunError: invalid ulimit argument: nofile$/);
  assert.throws(() => parseUlimit('as=1'), /invalid ulimit type: as/);
  assert.throws(
    () => parseUlimit('nofile=1:2:3'),
    /too many limit value arguments - 1:2:3, can only have up to two, `soft\[:hard\]`/,
  );
  assert.throws(
    () => parseUlimit('nofile=2048:1024'),
    /ulimit soft limit must be less than or equal to hard limit: 2048 > 1024/,
  );
  assert.throws(() => parseUlimit('nofile=-1:1024'), /soft: -1 \(unlimited\), hard: 1024/);
  assert.throws(() => parseUlimit('nofile=ten'), /invalid ulimit value "ten"/);
});

test('/proc/self/limits', () => {
  const host = parseProcLimits(HOST);
  assert.equal(host.size, 16);
  assert.deepEqual(host.get('RLIMIT_NOFILE'), { soft: 20000, hard: 20000 });
  assert.deepEqual(host.get('RLIMIT_STACK'), { soft: 8388608, hard: RLIM_INFINITY });
  assert.deepEqual(host.get('RLIMIT_NICE'), { soft: 0, hard: 0 });
});

test('defaults are clamped to hard limits the host cannot raise', () => {
  const host = parseProcLimits(HOST);
  assert.deepEqual(resolveRlimits({ host, canRaise: false }), [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 20000 },
  ]);
  assert.deepEqual(resolveRlimits({ host, canRaise: true }), [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 524288 },
  ]);
  const tiny = parseProcLimits(
    'Max open files            512                  512                  files\n',
  );
  assert.deepEqual(resolveRlimits({ host: tiny, canRaise: false }), [
    { type: 'RLIMIT_NOFILE', soft: 512, hard: 512 },
  ]);
});

test('an explicit --ulimit above the host is an error naming the limit and why', () => {
  const host = parseProcLimits(HOST);
  assert.throws(
    () => resolveRlimits({ host, canRaise: false, ulimits: [parseUlimit('nofile=1024:65536')] }),
    (err) =>
      isChrunError(err, 'CHRUN_RLIMIT_EXCEEDS_HARD') &&
      err.message ===
        "ulimit nofile: hard limit 65536 exceeds the host's hard limit 20000 (raising it needs CAP_SYS_RESOURCE)",
  );
  assert.throws(
    () => resolveRlimits({ host, canRaise: false, ulimits: [parseUlimit('nproc=-1')] }),
    /ulimit nproc: hard limit unlimited exceeds the host's hard limit 96343/,
  );
  const ok = resolveRlimits({
    host,
    canRaise: false,
    ulimits: [parseUlimit('nofile=100:200'), parseUlimit('core=0')],
  });
  assert.deepEqual(ok, [
    { type: 'RLIMIT_NOFILE', soft: 100, hard: 200 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
  ]);
  assert.deepEqual(
    resolveRlimits({ host, canRaise: true, ulimits: [parseUlimit('nofile=65536')] }),
    [{ type: 'RLIMIT_NOFILE', soft: 65536, hard: 65536 }],
  );
});

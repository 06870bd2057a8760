import assert from 'node:assert/strict';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { fileFixture, runIn } from './fixture.js';

const { f, skip } = fileFixture();

testNoLeaks(
  'a memory hog is killed at its limit and reported as out of memory (137)',
  { skip },
  async () => {
    const r = await runIn(
      f,
      ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" a); echo survived'],
      (s) => {
        s.linux!.resources = { memory: { limit: 32 * 1024 * 1024, swap: 32 * 1024 * 1024 } };
      },
    );
    assert.doesNotMatch(r.stdout, /survived/);
    assert.equal(r.exitCode, 137);
    assert.equal(r.signal, 'SIGKILL');
    assert.equal(r.oomKilled, true, 'reported as out of memory');
  },
);

testNoLeaks(
  'a fork loop stops at the pids limit and the container still ends',
  { skip },
  async () => {
    const r = await runIn(
      f,
      ['sh', '-c', 'i=0; while [ $i -lt 60 ]; do sleep 2 & i=$((i+1)); done; echo all 60 started'],
      (s) => {
        s.linux!.resources = { pids: { limit: 20 } };
      },
    );
    // the 20th process could not be forked: the shell says so and gives up; nothing got past
    assert.doesNotMatch(r.stdout, /all 60 started/);
    assert.match(r.stderr, /can't fork|Resource temporarily unavailable/);
    assert.notEqual(r.exitCode, 0);
  },
);

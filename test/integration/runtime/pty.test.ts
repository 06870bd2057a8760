import assert from 'node:assert/strict';
import { defaultSpec } from '../../helpers/busybox-bundle.js';
import { testNoLeaks } from '../../helpers/leak-check.js';
import { fileFixture } from './fixture.js';

const { f, skip } = fileFixture();

testNoLeaks(
  'a pty: a controlling terminal in the container, its size set and changed',
  { skip },
  async () => {
    const spec = defaultSpec([
      'sh',
      '-c',
      'tty; stty size; [ "$(stat -c %t:%T /dev/console)" = "$(stat -c %t:%T $(tty))" ] && echo console=pty; read x; stty size; kill -INT $$; echo not reached',
    ]);
    spec.process!.terminal = true;
    const p = await f.rt.run('pty', f.bundle, {
      spec,
      stdio: ['pipe', 'pipe', 'pipe'],
      consoleSize: { rows: 24, cols: 80 },
    });
    let out = '';
    const seen = (re: RegExp): Promise<void> =>
      new Promise((res) => {
        const check = (): void => {
          if (re.test(out)) {
            p.stdout?.off('data', onData);
            res();
          }
        };
        const onData = (d: Buffer): void => {
          out += d.toString();
          check();
        };
        p.stdout?.on('data', onData);
        check();
      });
    await seen(/console=/);
    assert.match(out, /^\/dev\/pts\/\d+\r?\n24 80\r?\nconsole=pty\r?\n/);
    p.resize(30, 100);
    await new Promise((r) => setTimeout(r, 50));
    p.stdin?.write('\n');
    await seen(/30 100\r?\n/);
    const st = await p.wait();
    // sh killed itself with SIGINT (the terminal's ^C signal); the pty relayed all output
    assert.equal(st.exitCode, 130);
    assert.doesNotMatch(out, /not reached/);
  },
);

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressDisplay } from '../../../src/cli/progress.js';
import { compileTemplate, renderTemplate } from '../../../src/cli/template.js';
import { humanDuration, humanSize, since, table } from '../../../src/cli/units.js';

test("sizes and durations read as docker's", () => {
  assert.equal(humanSize(0), '0B');
  assert.equal(humanSize(999), '999B');
  assert.equal(humanSize(4_087_254, 3), '4.09MB');
  assert.equal(humanSize(1_083_968), '1.084MB');
  assert.equal(humanSize(72_800_000_000, 3), '72.8GB');
  assert.equal(humanDuration(500), 'Less than a second');
  assert.equal(humanDuration(30_000), '30 seconds');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration(45 * 60_000), '45 minutes');
  assert.equal(humanDuration(3 * 86_400_000), '3 days');
  assert.equal(humanDuration(800 * 86_400_000), '2 years');
  assert.equal(since(undefined), 'N/A');
  assert.equal(since('2024-01-01T00:00:00Z', Date.parse('2024-01-03T00:00:00Z')), '2 days ago');
  assert.equal(
    table(
      ['A', 'LONGER'],
      [
        ['x', 'y'],
        ['wide value', 'z'],
      ],
    ),
    'A            LONGER\nx            y\nwide value   z',
  );
});

test('inspect templates: fields, json, lists; anything else refused', () => {
  const data = { Id: 'sha256:1', Config: { Cmd: ['sh', '-c'], Env: null }, Size: 3, Tags: [] };
  assert.equal(renderTemplate('{{.Id}} {{ .Size }}', data), 'sha256:1 3');
  assert.equal(
    renderTemplate('{{.Config.Cmd}}|{{json .Config}}|{{.Config.Env}}|{{.Nope}}', data),
    '[sh -c]|{"Cmd":["sh","-c"],"Env":null}|<no value>|<no value>',
  );
  assert.equal(renderTemplate('{{.}}', 'x'), 'x');
  assert.throws(
    () => renderTemplate('{{range .Tags}}x{{end}}', data),
    /^ChrunError: template parsing error: unsupported action "\{\{range \.Tags\}\}"/,
  );
  assert.equal(renderTemplate('{{index .Config.Cmd 1}}', data), '-c');
  assert.equal(renderTemplate('{{index .Config "Cmd"}}', data), '[sh -c]');
  // Checked whole before rendering anything: an unclosed action is an error, not text.
  const compiled = compileTemplate('a {{.Id}}');
  assert.equal(compiled(data), 'a sha256:1');
  for (const [bad, why] of [
    ['{{.Id', 'unclosed action'],
    ['{{.Id}} {{', 'unclosed action'],
    ['{{}}', 'missing value for command'],
    ['{{upper .Id}}', 'unsupported action "{{upper .Id}}"'],
    ['{{foo}}', 'function "foo" not defined'],
    ['{{.Id.}}', 'unsupported action "{{.Id.}}"'],
    ['{{index .Tags x}}', 'index: bad key x'],
  ] as const) {
    assert.throws(
      () => compileTemplate(bad),
      (err: Error) =>
        err.message.startsWith(`template parsing error: ${why}`) && !err.message.includes('\n'),
      bad,
    );
  }
});

class FakeStream {
  out = '';
  columns = 60;
  isTTY: boolean;
  constructor(tty: boolean) {
    this.isTTY = tty;
  }
  write(s: string): boolean {
    this.out += s;
    return true;
  }
}

test('progress: plain status lines when not a terminal, one per change', () => {
  const s = new FakeStream(false);
  const d = new ProgressDisplay(s as unknown as NodeJS.WriteStream);
  const layer = (status: 'waiting' | 'downloading' | 'downloaded' | 'complete', current: number) =>
    d.event({
      type: 'layer',
      id: 'abc123def456',
      digest: `sha256:${'a'.repeat(64)}`,
      status,
      current,
      total: 100,
    });
  d.print('1: Pulling from test/app');
  layer('waiting', 0);
  layer('downloading', 10);
  layer('downloading', 50);
  layer('downloaded', 100);
  layer('complete', 100);
  d.end();
  assert.equal(
    s.out,
    '1: Pulling from test/app\nabc123def456: Waiting\nabc123def456: Downloading\nabc123def456: Download complete\nabc123def456: Pull complete\n',
  );
});

test('progress on a terminal: lines redrawn in place, the bar fitted to the width', (t) => {
  const s = new FakeStream(true);
  const d = new ProgressDisplay(s as unknown as NodeJS.WriteStream, true);
  t.after(() => d.end());
  const ev = (id: string, status: 'downloading' | 'complete', current: number): void =>
    d.event({
      type: 'layer',
      id,
      digest: `sha256:${'b'.repeat(64)}`,
      status,
      current,
      total: 2_000_000,
    });
  ev('aaaaaaaaaaaa', 'downloading', 1_000_000);
  ev('bbbbbbbbbbbb', 'downloading', 0);
  d.flush();
  ev('aaaaaaaaaaaa', 'complete', 2_000_000);
  d.end();
  assert.equal(
    s.out,
    '\x1b[2Kaaaaaaaaaaaa: Downloading [==========>           ]  1MB/2MB\n' +
      '\x1b[2Kbbbbbbbbbbbb: Downloading [>                      ]  0B/2MB\n' +
      // The second draw goes back up two lines and rewrites them.
      '\x1b[2A\x1b[2Kaaaaaaaaaaaa: Pull complete\n' +
      '\x1b[2Kbbbbbbbbbbbb: Downloading [>                      ]  0B/2MB\n',
  );
  // Too narrow for a bar: sizes only.
  const narrow = new FakeStream(true);
  narrow.columns = 40;
  const n = new ProgressDisplay(narrow as unknown as NodeJS.WriteStream, true);
  n.event({
    type: 'layer',
    id: 'cccccccccccc',
    digest: `sha256:${'c'.repeat(64)}`,
    status: 'downloading',
    current: 5,
    total: 10,
  });
  n.end();
  assert.equal(narrow.out, '\x1b[2Kcccccccccccc: Downloading  5B/10B\n');
});

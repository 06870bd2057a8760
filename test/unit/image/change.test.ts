import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChanges } from '../../../src/image/index.js';
import { isChrunError } from '../../../src/util/index.js';

test('--change instructions as a Dockerfile has them', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=0'] }, [
    'CMD ["nginx", "-g", "daemon off;"]',
    'ENTRYPOINT /docker-entrypoint.sh',
    'ENV A=1 B="two words" C=three\\ words',
    'ENV D 4 and more',
    'EXPOSE 80 443/tcp 53/UDP 8000-8010',
    'WORKDIR /srv',
    'USER www-data:www-data',
    'LABEL maintainer="x y" version=1',
    'VOLUME ["/data", "/logs"]',
    'VOLUME /cache',
    'STOPSIGNAL SIGQUIT',
    'cmd ["lower", "case"]',
  ]);
  assert.deepEqual(c, {
    Env: ['PATH=/bin', 'A=1', 'B=two words', 'C=three words', 'D=4 and more'],
    Cmd: ['lower', 'case'],
    Entrypoint: ['/bin/sh', '-c', '/docker-entrypoint.sh'],
    ExposedPorts: { '80/tcp': {}, '443/tcp': {}, '53/udp': {}, '8000-8010/tcp': {} },
    WorkingDir: '/srv',
    User: 'www-data:www-data',
    Labels: { maintainer: 'x y', version: '1' },
    Volumes: { '/data': {}, '/logs': {}, '/cache': {} },
    StopSignal: 'SIGQUIT',
  });
});

test('bad --change instructions name what is wrong', () => {
  for (const [change, why] of [
    ['RUN make', /RUN is not supported/],
    ['CMD', /want INSTRUCTION ARGUMENTS/],
    ['CMD ["a", 1]', /JSON array of strings/],
    ['CMD [oops', /not a valid JSON array/],
    ['WORKDIR relative', /absolute path/],
    ['EXPOSE http', /"http" is not a port/],
    ['EXPOSE 70000', /"70000" is not a port/],
    ['ENV =x', /"=x" is not KEY=VALUE/],
    ['LABEL a="open', /unterminated quote/],
    ['USER a b', /one user/],
  ] as const) {
    assert.throws(
      () => applyChanges({}, [change]),
      (e) =>
        isChrunError(e, 'CHRUN_INVALID_ARGUMENT') &&
        e.message.startsWith(`invalid --change "${change}": `) &&
        why.test(e.message),
      change,
    );
  }
});

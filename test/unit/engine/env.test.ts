import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeEnv, parseEnvFile, parseEnvFlag } from '../../../src/engine/index.js';

const lookup = (name: string): string | undefined => ({ HOSTVAR: 'from host', EMPTY: '' })[name];

test('env files are read as docker reads them', () => {
  const text = [
    '\uFEFF# comment',
    '',
    '   # indented comment',
    'A=1',
    '  B=two words  ',
    'C="quoted"',
    'D=',
    'E=x=y',
    'HOSTVAR',
    'UNSET_VAR',
    'EMPTY',
    'CRLF=yes\r',
  ].join('\n');
  assert.deepEqual(parseEnvFile(text, 'f.env', lookup), [
    'A=1',
    'B=two words  ',
    'C="quoted"',
    'D=',
    'E=x=y',
    'HOSTVAR=from host',
    'EMPTY=',
    'CRLF=yes',
  ]);
});

test('bad env file lines are refused with docker words', () => {
  assert.throws(
    () => parseEnvFile('BAD NAME=1\n', 'f', lookup),
    /poorly formatted environment: variable 'BAD NAME' contains whitespaces/,
  );
  assert.throws(
    () => parseEnvFile('=value\n', 'f', lookup),
    /poorly formatted environment: no variable name on line '=value'/,
  );
  assert.throws(
    () => parseEnvFile('A=\uFFFD\n', 'f.env', lookup),
    /env file f.env contains invalid utf8 bytes at line 1/,
  );
});

test('-e: NAME=value as given, NAME from the caller or bare', () => {
  assert.equal(parseEnvFlag('A=1', lookup), 'A=1');
  assert.equal(parseEnvFlag('HOSTVAR', lookup), 'HOSTVAR=from host');
  assert.equal(parseEnvFlag('UNSET_VAR', lookup), 'UNSET_VAR');
  assert.throws(() => parseEnvFlag('=x', lookup), /invalid environment variable: =x/);
});

test('overrides replace in place, append, and a bare name unsets', () => {
  assert.deepEqual(mergeEnv(['PATH=/bin', 'A=1', 'B=2'], ['B=3', 'C=4', 'A', 'NOPE']), [
    'PATH=/bin',
    'B=3',
    'C=4',
  ]);
});

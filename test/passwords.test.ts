import assert from 'node:assert/strict';
import { test } from 'node:test';
import bcrypt from 'bcrypt';
import { Passwords, passwordProblem } from '../src/lib/passwords.js';

test('password length is counted in UTF-8 bytes: 8 to 72', () => {
  assert.equal(passwordProblem('1234567'), 'too_short');
  assert.equal(passwordProblem('12345678'), null);
  assert.equal(passwordProblem('é'.repeat(36)), null);
  assert.equal(passwordProblem(`${'é'.repeat(36)}a`), 'too_long');
  assert.equal(passwordProblem('😀'.repeat(18)), null);
  assert.equal(passwordProblem(`${'😀'.repeat(18)}a`), 'too_long');
});

test('at most the configured number of bcrypt operations run at once; the rest queue', async (t) => {
  let active = 0;
  let peak = 0;
  const original = bcrypt.compare;
  t.mock.method(bcrypt, 'compare', async (data: string, hash: string) => {
    active++;
    peak = Math.max(peak, active);
    try {
      return await original(data, hash);
    } finally {
      active--;
    }
  });
  const passwords = new Passwords(4, 2);
  const hash = await passwords.hash('password-1');
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => passwords.verify(i % 2 ? 'password-1' : 'wrong', hash)));
  assert.equal(peak, 2);
  assert.deepEqual(results, Array.from({ length: 12 }, (_, i) => i % 2 === 1));
});

test('an unknown user is compared against a dummy hash of the same cost, and never matches', async () => {
  const passwords = new Passwords(4, 1);
  assert.equal(await passwords.verify('anything', null), false);
  assert.equal(await passwords.verify('anything', undefined), false);
});

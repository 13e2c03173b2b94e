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
  const results = await Promise.all(
    Array.from({ length: 12 }, (_, i) => passwords.verify(i % 2 ? 'password-1' : 'wrong', hash)),
  );
  assert.equal(peak, 2);
  assert.deepEqual(
    results,
    Array.from({ length: 12 }, (_, i) => i % 2 === 1),
  );
});

test('an unknown user is compared against a dummy hash of the same cost: it never matches, and takes as long as a wrong password', async (t) => {
  const cost = 8;
  const passwords = new Passwords(cost, 1);
  const compared: string[] = [];
  const original = bcrypt.compare;
  t.mock.method(bcrypt, 'compare', (data: string, hash: string) => {
    compared.push(hash);
    return original(data, hash);
  });
  assert.equal(await passwords.verify('anything', null), false);
  assert.equal(await passwords.verify('anything', undefined), false);
  assert.deepEqual(
    compared.map((hash) => bcrypt.getRounds(hash)),
    [cost, cost],
    'one comparison each, against a hash of the configured cost',
  );

  // Interleaved, so that a machine growing busier slows both alike; medians, so one stall does not decide.
  const real = await passwords.hash('right-password');
  const time = async (hash: string | null) => {
    const started = performance.now();
    assert.equal(await passwords.verify('wrong-password', hash), false);
    return performance.now() - started;
  };
  const unknown: number[] = [];
  const wrong: number[] = [];
  for (let i = 0; i < 7; i++) {
    unknown.push(await time(null));
    wrong.push(await time(real));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const ratio = median(unknown) / median(wrong);
  assert.ok(
    ratio > 0.5 && ratio < 2,
    `unknown user ${median(unknown).toFixed(1)} ms, wrong password ${median(wrong).toFixed(1)} ms (ratio ${ratio.toFixed(2)})`,
  );
});

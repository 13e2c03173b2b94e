// `npm run mailbox`: the mail a development server would have sent (email verification, password
// reset), newest last, with the mutation that uses each token: the stand-in for a mail sender,
// from the file the log sink keeps outside production (MAILBOX_FILE).
import { existsSync, readFileSync } from 'node:fs';
import { loadEnv } from '../src/env.js';

const file = loadEnv().MAILBOX_FILE;
const count = Number(process.argv[2] ?? 5);

interface Mail {
  at: string;
  event: string;
  payload: { email?: string; token: string };
}

function describe({ event, payload }: Mail): [string, string] {
  const email = JSON.stringify(payload.email ?? '');
  const token = JSON.stringify(payload.token);
  switch (event) {
    case 'customer.email_verification_requested':
      return ['email verification', `mutation { verifyEmail(token: ${token}) { __typename } }`];
    case 'customer.password_reset':
      return [
        'password reset',
        `mutation { resetPassword(input: { email: ${email}, token: ${token}, password: "<new password>" }) { __typename } }`,
      ];
    default:
      return [event, `token ${token}`];
  }
}

if (!file || !existsSync(file)) {
  console.log(`No mail yet${file ? ` (${file} does not exist)` : ' (MAILBOX_FILE is empty)'}.`);
} else {
  const mails = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Mail);
  for (const mail of mails.slice(-count)) {
    const [what, use] = describe(mail);
    console.log(`${mail.at}  ${what} for ${mail.payload.email ?? '(no email)'}\n  ${use}\n`);
  }
}

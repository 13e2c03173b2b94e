// `npm start`: runs the server as a child and makes sure whatever stops the command stops the server.
// npm runs a script through `sh -c` and, on SIGTERM, signals only that shell: the server used to be
// left running, orphaned, on its port. So this launcher passes SIGTERM, SIGINT and SIGHUP on, and if
// it is orphaned itself (npm and its shell gone, even by SIGKILL) it stops the server the same way.
// The server drains and exits 0; the launcher exits with the server's code.
// (Under a process manager, run `node --import tsx src/server.ts` directly: one process, no launcher.)
import { spawn } from 'node:child_process';

const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts', ...process.argv.slice(2)], {
  stdio: 'inherit',
});

let forwarded = false;
const stop = (signal) => {
  if (server.exitCode !== null || server.signalCode !== null) return;
  forwarded = true;
  server.kill(signal);
};
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'])
  process.on(signal, () => stop(signal === 'SIGHUP' ? 'SIGTERM' : signal));

const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent && !forwarded) stop('SIGTERM');
}, 250);

server.on('exit', (code, signal) => {
  clearInterval(watch);
  process.exit(code ?? (signal ? 128 + (signal === 'SIGKILL' ? 9 : 15) : 1));
});

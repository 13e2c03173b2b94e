// The suite's TypeScript, compiled once per run into a mirror of the project under node_modules/.cache,
// so that each test process loads plain JavaScript: through tsx every process paid its loader thread
// and transforms again, about 1.3 s of CPU in each of ~27 processes. esbuild is tsx's own compiler,
// so the code that runs is the code tsx would have run; `import.meta.url` keeps naming the source
// file, so paths a module computes from its own place (migrations, fixtures, the project root) hold.
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { stop, transform } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FOLDERS = ['src', 'test', 'scripts', 'prisma'];

function* sources(folder: string): Generator<string> {
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (/\.(ts|mjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

/** Compiles src/, test/, scripts/ and prisma/ into `outDir` (emptied first); returns `outDir`. */
export async function compileForTests(outDir: string): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  const files = FOLDERS.flatMap((folder) => [...sources(join(ROOT, folder))]);
  await Promise.all(
    files.map(async (file) => {
      const target = join(outDir, relative(ROOT, file));
      mkdirSync(dirname(target), { recursive: true });
      if (file.endsWith('.mjs')) return cpSync(file, target);
      const { code } = await transform(readFileSync(file, 'utf8'), {
        loader: 'ts',
        format: 'esm',
        platform: 'node',
        target: 'node20',
        sourcefile: file,
        sourcemap: 'inline',
        define: { 'import.meta.url': JSON.stringify(pathToFileURL(file).href) },
      });
      writeFileSync(target.replace(/\.ts$/, '.js'), code);
    }),
  );
  // esbuild's service process would otherwise live as long as the run.
  await stop();
  return outDir;
}

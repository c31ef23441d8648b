// Compiles every TypeScript source of apps/, libs/ and tools/ to dist/ with swc: one pass, no
// bundling (bundlers drop the decorator metadata Nest's DI needs). Type-checking is `npm run typecheck`.
import { transformFile } from '@swc/core';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { swcOptions, root } = require('./swc-options.cjs');
const outDir = path.join(root, 'dist');
const sourceDirs = ['apps', 'libs', 'tools'];
const isSource = (f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(f);

async function* walk(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (isSource(entry.name)) yield full;
  }
}

const started = Date.now();
await rm(outDir, { recursive: true, force: true });
const options = swcOptions({ rewritePaths: true });
let count = 0;
const jobs = [];
for (const dir of sourceDirs) {
  for await (const file of walk(path.join(root, dir))) {
    jobs.push(
      (async () => {
        const rel = path.relative(root, file);
        const target = path.join(outDir, rel.replace(/\.ts$/, '.js'));
        const out = await transformFile(file, { ...options, filename: file, sourceFileName: path.relative(path.dirname(target), file) });
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, `${out.code}\n//# sourceMappingURL=${path.basename(target)}.map\n`);
        if (out.map) await writeFile(`${target}.map`, out.map);
        count++;
      })(),
    );
  }
}
// Plain CommonJS helpers under tools/ are used by compiled tools (benchmarks) as they are.
for (const file of await readdir(path.join(root, 'tools'))) {
  if (file.endsWith('.cjs')) {
    jobs.push(mkdir(path.join(outDir, 'tools'), { recursive: true }).then(() => copyFile(path.join(root, 'tools', file), path.join(outDir, 'tools', file))));
  }
}
await Promise.all(jobs);
console.log(`build: ${count} files -> dist/ in ${Date.now() - started} ms`);

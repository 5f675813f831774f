// Builds the dashboard (web/, docs/dashboard.md) into dist/web: one JavaScript bundle and one
// stylesheet, no source maps in the package, nothing loaded from outside at run time.
// `npm run build` runs it after tsc; `node scripts/build-web.mjs --watch` rebuilds on change.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/web`;

const options = {
  entryPoints: { app: `${root}web/src/main.tsx` },
  outdir: `${out}/assets`,
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
};

await rm(out, { recursive: true, force: true });
await mkdir(`${out}/assets`, { recursive: true });
await copyFile(`${root}web/index.html`, `${out}/index.html`);
if (process.argv.includes('--watch')) {
  const context = await esbuild.context(options);
  await context.watch();
  console.log('watching web/ for changes');
} else {
  const result = await esbuild.build(options);
  const sizes = Object.entries(result.metafile.outputs).map(
    ([file, o]) => `${file.replace(`${root}`, '')} ${(o.bytes / 1024).toFixed(1)} KiB`,
  );
  console.log(`dashboard built: ${sizes.join(', ')}`);
}

// Bundles the command line (dist/cli/main.js, tsc's output) into dist/bundle/: one file for what
// every start loads, and chunks for what only some commands or configurations load (NATS, cluster
// mode, the sandbox, the policy diff), which stay behind their dynamic imports. A start then reads
// a handful of files instead of some 400 modules: about a quarter less time to ready and a few MB
// less RSS (docs/performance.md, "Restart and footprint"). dist/main.js loads it
// (docs/architecture.md, "Build"). `npm run build` runs this after tsc.
//
// Left to node_modules at run time: classic-level (LevelDB's native binding, found through
// node-gyp-build next to its own files), and whatever our code loads through createRequire
// (recheck in its child process; ajv's runtime helpers in the compiled schemas). The worker
// threads (NATS triage, the parallel policy diff) run tsc's output in dist/ as before.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/bundle`;

await rm(out, { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { cli: `${root}dist/cli/main.js` },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['classic-level'],
  // Packages written as CommonJS call require() for Node's own modules; in an ES module bundle that
  // needs a real require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
console.log(`server bundled: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in dist/bundle`);

#!/usr/bin/env -S node --max-semi-space-size=8
// The executable (docs/configuration.md, "Command line"). It turns on Node's on-disk compile cache
// (Node 22.1 and later; a no-op on Node 20) before anything else loads, so a restart compiles none
// of the modules a previous start compiled: about a third of a cold start's CPU
// (docs/performance.md, "Restart and footprint"). Then the command line proper (src/cli/main.ts),
// as `npm run build` bundled it into dist/bundle (scripts/build-server.mjs; docs/architecture.md,
// "Build").
// --max-semi-space-size=8 (here, in `npm start` and in the Dockerfile: V8 reads it only at launch)
// caps the young generation at 8 MB; Node 24 otherwise grows it to 32 MB during a start and keeps
// it (docs/runtime.md, "Memory flags").
import nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
// Run from the sources (tests, through tsx), the sources; built, the bundle. A specifier in a
// variable: the bundle is made after tsc, which must not look for it.
const entry = import.meta.url.endsWith('.ts') ? './cli/main.js' : './bundle/cli.js';
await import(entry);

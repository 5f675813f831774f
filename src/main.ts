#!/usr/bin/env node
// The executable (docs/configuration.md, "Command line"). It turns on Node's on-disk compile cache
// (Node 22.1 and later; a no-op on Node 20) before anything else loads, so a restart compiles none
// of the modules a previous start compiled: about a third of a cold start's CPU
// (docs/performance.md, "Restart and footprint"). Then the command line proper (src/cli/main.ts).
import nodeModule from 'node:module';

(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.();
await import('./cli/main.js');

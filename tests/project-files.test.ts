// src/project-files.ts: the project's root from a module's URL, whether the module runs from src/
// (tests), from tsc's dist/, or from the bundle one level deeper (docs/architecture.md, "Build").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { projectFile, projectRoot } from '../src/project-files.js';

describe('projectRoot', () => {
  it('is the directory above src/, dist/ and dist/bundle/ alike', () => {
    for (const url of [
      'file:///opt/ir/src/dashboard/routes.ts',
      'file:///opt/ir/dist/dashboard/routes.js',
      'file:///opt/ir/dist/bundle/chunk-ABC.js',
      'file:///opt/ir/dist/ingest/nats/triage.js',
    ])
      expect(projectRoot(url).href).toBe('file:///opt/ir/');
  });

  it('takes the last src/ or dist/ when the install path holds one too', () => {
    expect(projectRoot('file:///home/me/src/incident-router/dist/bundle/cli.js').href).toBe(
      'file:///home/me/src/incident-router/',
    );
  });

  it('refuses a module outside both', () => {
    expect(() => projectRoot('file:///opt/ir/lib/x.js')).toThrow(/neither src\/ nor dist\//);
  });

  it('finds this checkout’s package.json', () => {
    expect(existsSync(fileURLToPath(projectFile('package.json')))).toBe(true);
  });
});

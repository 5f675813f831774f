// Files of the installed project that code reads at run time: package.json, the built dashboard,
// the worker threads' scripts. Found from the project's root, which is the directory holding `src/`
// (tests run the sources) or `dist/` (built, including the one-file server bundle in `dist/bundle/`,
// which sits one level deeper than the module it was built from: docs/architecture.md, "Build").

/** The project's root as a directory URL: the part of `moduleUrl` before its last `/dist/` or `/src/`. */
export function projectRoot(moduleUrl: string): URL {
  const at = Math.max(moduleUrl.lastIndexOf('/dist/'), moduleUrl.lastIndexOf('/src/'));
  if (at < 0) throw new Error(`${moduleUrl} is in neither src/ nor dist/ of the project`);
  return new URL(moduleUrl.slice(0, at + 1));
}

const ROOT = projectRoot(import.meta.url);

/** `path` (relative to the project's root, e.g. `dist/web/`) as a file URL. */
export function projectFile(path: string): URL {
  return new URL(path, ROOT);
}

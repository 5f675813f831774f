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
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

// luxon ships an ES module build (our imports) and a CommonJS one (cron-parser's require): bundled
// as found, both went in, so every start evaluated luxon twice (260 KB each) and warmed two sets of
// its time-zone caches. Both now resolve to the ES module build.
const oneLuxon = {
  name: 'one-luxon',
  setup(build) {
    build.onResolve({ filter: /^luxon$/ }, () => ({
      path: `${root}node_modules/luxon/build/es6/luxon.mjs`,
    }));
  },
};

// On Node 24 an ES module import of node:http costs about 40 ms: building the module's ES facade
// reads every export, and one of them is a getter that loads Node's own copy of undici (fetch,
// WebSocket). require() returns the exports object and reads none. So the bundle's imports of
// node:http (ours and Koa's) get it through require(); Node 20 is the same either way.
const httpThroughRequire = {
  name: 'http-through-require',
  setup(build) {
    build.onResolve({ filter: /^(node:)?http$/ }, (args) =>
      args.kind === 'import-statement' ? { path: 'node:http', namespace: 'http-through-require' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'http-through-require' }, () => ({
      contents: "module.exports = require('node:http');",
      loader: 'js',
    }));
  },
};
/**
 * A package file as esbuild should load it: its text with each exact `[from, to]` replaced. The build
 * stops when a `from` is no longer there (a new version of the package): a patch never silently
 * stops applying.
 */
async function patched(path, replacements) {
  let contents = await readFile(path, 'utf8');
  for (const [from, to] of replacements) {
    if (!contents.includes(from)) throw new Error(`${path} no longer reads:\n${from}`);
    contents = contents.replace(from, to);
  }
  return { contents, loader: 'js', resolveDir: dirname(path) };
}

// Loaded by every start, used by few requests: mime-types builds its tables of some 2,500 types
// from mime-db as it loads (about 10 ms of a start; Koa, accepts and type-is require it), and
// prom-client's index requires its Pushgateway (which loads https, so tls) and its cluster
// aggregator (cluster, dgram), neither of which we use. Each is now loaded on its first use: a
// stand-in for mime-types that forwards to it, and prom-client's two exports as getters.
const loadedOnFirstUse = {
  name: 'loaded-on-first-use',
  setup(build) {
    const mimeTypes = `${root}node_modules/mime-types/index.js`;
    build.onResolve({ filter: /^mime-types$/ }, () => ({ path: 'mime-types', namespace: 'lazy-mime-types' }));
    build.onLoad({ filter: /.*/, namespace: 'lazy-mime-types' }, () => ({
      contents: [
        'let real;',
        `const load = () => (real ??= require(${JSON.stringify(mimeTypes)}));`,
        'exports.charset = (type) => load().charset(type);',
        'exports.charsets = { lookup: (type) => load().charset(type) };',
        'exports.contentType = (str) => load().contentType(str);',
        'exports.extension = (type) => load().extension(type);',
        'exports.lookup = (path) => load().lookup(path);',
        "for (const name of ['extensions', 'types', '_extensionConflicts'])",
        '  Object.defineProperty(exports, name, { enumerable: true, get: () => load()[name] });',
      ].join('\n'),
      loader: 'js',
      resolveDir: root,
    }));
    build.onLoad({ filter: /[\\/]node_modules[\\/]prom-client[\\/]index\.js$/ }, (args) =>
      patched(
        args.path,
        [
          ['Pushgateway', './lib/pushgateway'],
          ['AggregatorRegistry', './lib/cluster'],
        ].map(([name, file]) => [
          `exports.${name} = require('${file}');`,
          `Object.defineProperty(exports, '${name}', { enumerable: true, get: () => require('${file}') });`,
        ]),
      ),
    );
  },
};
// nats.js 3.4 answers every request (each JetStream publish, KV get and put) and then calls its own
// `cancel()`, which rejects the promise it has just settled with a new RequestError: an Error built,
// stack trace captured, and thrown away, about 2.5% of a cluster replica's CPU in a profile of a
// burst of new incidents. After an answer the bundle passes `cancel` one error made once instead;
// `cancel` on its other paths (a timeout, a closed connection) still makes its own.
const natsSettledCancel = {
  name: 'nats-settled-cancel',
  setup(build) {
    build.onLoad({ filter: /[\\/]@nats-io[\\/]nats-core[\\/]lib[\\/]request\.js$/ }, (args) => {
      const settled = `            this.deferred.resolve(msg);
        }
        this.cancel();`;
      const exported = 'exports.RequestOne = RequestOne;';
      return patched(args.path, [
        [settled, settled.replace('this.cancel();', 'this.cancel(ANSWERED);')],
        [
          exported,
          `${exported}\n// Rejects nothing: the promise was settled before \`cancel\` (scripts/build-server.mjs).\n` +
            'var ANSWERED = new errors_1.RequestError("cancelled after its answer");',
        ],
      ]);
    });
  },
};
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
  plugins: [oneLuxon, httpThroughRequire, loadedOnFirstUse, natsSettledCancel],
  // Packages written as CommonJS call require() for Node's own modules; in an ES module bundle that
  // needs a real require.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
  },
  // Minified (whitespace and syntax; names kept): V8 holds the source text of every file a start
  // loads for as long as the process runs, and without comments and indentation the two files every
  // start loads are 1.7 MB instead of 2.75: about 1.5 MB less idle RSS (docs/performance.md,
  // "Restart and footprint"). A stack trace then points into one long line; the linked source map
  // turns it back into ours: `node --enable-source-maps dist/main.js ...` (docs/runtime.md).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  logLevel: 'warning',
  metafile: true,
});
// What went where (each output's inputs and static imports), for tests/cli/built.test.ts: the
// minified files no longer name the package files in them.
await writeFile(`${out}/meta.json`, JSON.stringify(result.metafile));
const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));

// esbuild escapes non-ASCII characters in strings and identifiers (its default charset) but leaves
// them in comments and regular expression literals, and the packages' comments and ours hold dashes,
// arrows and quotes. One such character makes Node decode a file through the slow UTF-8 path and V8
// keep its source as a two-byte string: 7 MB instead of 3.5 for the two files every start loads, and
// 30 ms of a start decoding them. Each becomes its \\u escape, which means the same character in a
// regular expression, a string or an identifier, and is text in a comment (columns after one on its
// line move in the source map; a stack trace's line stays right). A backslash before one would make
// the escape mean something else: the build stops instead.
/** Every UTF-16 unit above ASCII (each half of a surrogate pair too). */
const NON_ASCII = /[\u0080-\uffff]/g;
for (const [file] of outputs) {
  const path = `${root}${file}`;
  const text = await readFile(path, 'utf8');
  if (/\\[\u0080-\uffff]/.test(text)) throw new Error(`${file}: an escaped non-ASCII character`);
  const ascii = text.replace(NON_ASCII, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) await writeFile(path, ascii);
}
const bytes = outputs.reduce((sum, [, o]) => sum + o.bytes, 0);
console.log(`server bundled: ${outputs.length} files, ${(bytes / 1024).toFixed(0)} KiB in dist/bundle`);

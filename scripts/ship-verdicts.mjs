// The shipped policies' regular-expression verdicts (docs/policy-language.md, "Regular
// expressions"), computed once here by recheck, as a start would, and saved as
// dist/policy-regex-verdicts.json, with the files' parses (dist/policy-parses.json): a first start
// on the shipped policy (`npm start`, a new DATA_DIR) and `incident-router validate` then start no
// checker process, which costs about a second (src/policy/redos.ts, `SHIPPED_VERDICTS`), and read no
// YAML (src/policy/load/parse-cache.ts). A pattern of another policy is checked as before.
// `npm run build` runs this after tsc.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const target = `${root}dist/policy-regex-verdicts.json`;
const parses = `${root}dist/policy-parses.json`;
// A verdict or a parse from an earlier build would be believed by the load below instead of made.
await rm(target, { force: true });
await rm(parses, { force: true });
const { loadPolicy, readPolicyDir } = await import(`${root}dist/policy/load.js`);
const { RECHECK_VERSION } = await import(`${root}dist/policy/redos.js`);
const { parseCache } = await import(`${root}dist/policy/load/parse-cache.js`);

const sources = await readPolicyDir(`${root}policies`);
const loaded = loadPolicy(sources, { env: {}, sandbox: true });
if (!loaded.ok) throw new Error(`the shipped policy does not load: ${JSON.stringify(loaded.problems)}`);
const verdicts = {};
for (const [source, verdict] of loaded.policy.verdicts)
  if (verdict.status !== 'unknown') verdicts[source] = verdict;
await writeFile(target, JSON.stringify({ recheck: RECHECK_VERSION, verdicts }));
// Its files as YAML read them (src/policy/load/parse-cache.ts): a first start reads no YAML either.
// A new build id each build: DATA_DIR's saved parses are believed by the build that saved them only.
await writeFile(
  parses,
  parseCache.serialize(
    loaded.policy.files.map((f) => f.sha256),
    randomUUID(),
  ),
);
console.log(
  `shipped policy: ${Object.keys(verdicts).length} regular-expression verdicts, ${loaded.policy.files.length} parsed files in dist/`,
);

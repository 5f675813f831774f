// The provider simulators in a process of their own, for the latency rows (bench/nats.mjs and
// bench/cluster.mjs). Hosted in the benchmark's process, the simulators stamp each request's arrival
// on the event loop that also publishes the events, keeps every earlier phase's garbage and collects
// it: a pause there (10–26 ms measured) lands in the samples as if the sidecar had taken it. Here
// they have an event loop to themselves, as a real provider would.
//
// `startSandboxProcess()` answers the part of the in-process sandbox (src/sandbox) the latency rows
// and `spawnSidecar` use, each method returning a promise: `urls`, and for `pagerduty` and
// `opsgenie`: reset, configureWebhook, requests, requestCount, incidentCount / alertCount,
// webhooksIdle. `stop()` ends the process.
import { fork } from 'node:child_process';

const SIMULATORS = ['pagerduty', 'opsgenie'];
const METHODS = [
  'reset',
  'configureWebhook',
  'requests',
  'requestCount',
  'incidentCount',
  'alertCount',
  'webhooksIdle',
];

export async function startSandboxProcess() {
  const child = fork(new URL(import.meta.url).pathname, ['--child'], {
    execArgv: ['--max-semi-space-size=8'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  let next = 0;
  let exited = null;
  child.on('message', (message) => {
    const pending = waiting.get(message.id);
    if (pending === undefined) return;
    waiting.delete(message.id);
    if ('error' in message) pending.reject(new Error(`sandbox process: ${message.error}`));
    else pending.resolve(message.result);
  });
  child.once('exit', (code, signal) => {
    exited = code ?? signal;
    for (const { reject } of waiting.values()) reject(new Error(`the sandbox process exited (${exited})`));
    waiting.clear();
  });
  const call = (target, method, args = []) =>
    new Promise((resolve, reject) => {
      if (exited !== null) return reject(new Error(`the sandbox process exited (${exited})`));
      const id = ++next;
      waiting.set(id, { resolve, reject });
      child.send({ id, target, method, args });
    });
  const urls = await call(null, 'urls');
  const proxy = (target) => Object.fromEntries(METHODS.map((m) => [m, (...args) => call(target, m, args)]));
  return {
    urls,
    pagerduty: proxy('pagerduty'),
    opsgenie: proxy('opsgenie'),
    stop: async () => {
      if (exited !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      await call(null, 'stop').catch(() => undefined);
      await gone;
    },
  };
}

if (process.argv[2] === '--child') {
  const { startSandbox } = await import('../dist/sandbox/index.js');
  const sandbox = await startSandbox();
  // The benchmark gone (Ctrl-C, a crash): so are the simulators.
  process.once('disconnect', () => process.exit(0));
  process.on('message', async ({ id, target, method, args }) => {
    try {
      let result;
      if (target === null && method === 'urls') result = sandbox.urls;
      else if (target === null && method === 'stop') {
        await sandbox.stop();
        process.send({ id, result: null }, () => process.exit(0));
        return;
      } else if (SIMULATORS.includes(target) && METHODS.includes(method))
        result = await sandbox[target][method](...args);
      else throw new Error(`unknown call ${target}.${method}`);
      process.send({ id, result: result ?? null });
    } catch (err) {
      process.send({ id, error: err instanceof Error ? err.message : String(err) });
    }
  });
}

// `npm run bench`: every benchmark, each printing a table of measured figures beside a ceiling
// measured in the same run. Run one alone with `node --expose-gc --max-semi-space-size=2 bench/<name>.mjs`
// (the small young generation keeps this process's own scavenges, which every latency sample taken
// across them includes, short: docs/performance.md, "NATS ingest").
import { cpus } from 'node:os';
import { benchAlertmanager } from './alertmanager.mjs';
import { benchCluster } from './cluster.mjs';
import { benchDashboard } from './dashboard.mjs';
import { benchDecide } from './decide.mjs';
import { benchDelivery } from './delivery.mjs';
import { benchDiff } from './diff.mjs';
import { benchEscalation } from './escalation.mjs';
import { benchNats } from './nats.mjs';
import { benchSilences } from './silences.mjs';
import { benchStart } from './start.mjs';
import { benchWebhooks } from './webhooks.mjs';

const only = process.argv[2];
const benches = {
  start: benchStart,
  decide: benchDecide,
  delivery: benchDelivery,
  nats: benchNats,
  webhooks: benchWebhooks,
  cluster: benchCluster,
  escalation: benchEscalation,
  silences: benchSilences,
  diff: benchDiff,
  dashboard: benchDashboard,
  // Side by side with Prometheus Alertmanager; skipped when no `alertmanager` binary is on the PATH.
  alertmanager: benchAlertmanager,
};
console.log(
  `incident-router benchmarks · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
);
for (const [name, run] of Object.entries(benches)) {
  if (only && only !== name) continue;
  await run();
}

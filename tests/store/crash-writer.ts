// Child process for the crash test: commits incident + deliveries + audit batches as fast as it can
// and reports each one after commit resolves, until the parent kills it with SIGKILL.
import { Store } from '../../src/store/store.js';
import { audit, delivery, incident } from './fixtures.js';

const dir = process.argv[2] as string;
const store = await Store.open(dir);
for (let n = 0; ; n++) {
  const id = `inc_${String(n).padStart(6, '0')}`;
  const tx = store.transaction().putIncident(incident({ id, fingerprint: `fp-${n}` }));
  for (let d = 0; d < 3; d++)
    tx.putDelivery(delivery({ id: `d_${String(n).padStart(6, '0')}_${d}`, incident_id: id }));
  tx.appendAudit(audit(id, 'opened')).appendAudit(audit(id, 'delivery_queued'));
  await store.commit(tx, { sync: n % 10 === 0 });
  process.stdout.write(`${n}\n`);
}

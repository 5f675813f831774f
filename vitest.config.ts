import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Integration tests spawn nats-server, the sidecar and LevelDB; on a shared 2-core machine
    // they need room, not speed.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Stops the nats-servers that forked workers leave behind (tests/global-setup.ts).
    globalSetup: ['tests/global-setup.ts'],
    maxWorkers: 2,
    // .ci/run reads the JSON report; people read the default one.
    reporters: ['default', 'json'],
    outputFile: { json: '.tmp/vitest-report.json' },
    projects: [
      { extends: true, test: { name: 'leveldb', include: ['tests/**/*.test.ts'] } },
      {
        // The behaviour tests again with incident state in NATS JetStream (cluster mode's
        // backend, one replica): every behaviour works in both (tests/helpers/app.ts, TEST_STATE).
        extends: true,
        test: {
          name: 'jetstream',
          include: [
            'tests/integration/**/*.test.ts',
            'tests/ingest/nats-*.test.ts',
            'tests/dashboard/**/*.test.ts',
          ],
          env: { TEST_STATE: 'jetstream' },
        },
      },
    ],
  },
});

import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The `unit` project: test files that open no socket and start no process, and run in seconds. An
 * explicit list, so a new test file lands in `integration` until someone moves it here on purpose;
 * tests/setup/unit-guard.ts makes a listed file that opens a socket or spawns a process fail.
 */
const UNIT = [
  'cloud-commands-store',
  'cloud-live-latest',
  'cloud-rules',
  'protocol-answer-frame',
  'cloud-live',
  'cloud-store',
  'dashboard-events',
  'dashboard-format',
  'edge-commands',
  'edge-config',
  'edge-control',
  'edge-datasets',
  'edge-effects',
  'edge-registers',
  'edge-statistics',
  'edge-stats-cli',
  'edge-store',
  'edge-units',
  'edge-unsaved',
  'fuzz-decoder',
  'lifecycle',
  'modbus-registers',
  'protocol-appendix',
  'protocol-codec',
  'protocol-codes',
  'protocol-corrections',
  'protocol-property',
  'protocol-sm4',
  'sim-analyzer',
  'spill-log',
].map((name) => `tests/${name}.test.ts`);

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Both run by `npm test` (`vitest run`); one alone with `--project unit` or `--project integration`.
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT, setupFiles: ['tests/setup/unit-guard.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['tests/**/*.test.ts'], exclude: [...configDefaults.exclude, ...UNIT] },
      },
    ],
  },
});

import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: the slow reliability runs (10 000-object load, 1 000 000 cache keys,
// soak with Prometheus restarts). Files are *.reliability.ts so `npm test` (test/**/*.test.ts)
// never picks them up. One at a time: they measure memory and time on a shared 2-core machine.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.reliability.ts'],
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 30 * 60_000,
    hookTimeout: 5 * 60_000,
  },
});

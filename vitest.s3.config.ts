/**
 * `npm run test:s3`: the tests below again, with every lake in a bucket on a loopback S3 server
 * (test/support/lake-in-bucket.ts). Which tests run here, and why the others do not:
 * docs/object-storage.md ("Every test on the bucket").
 */
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

export const BUCKET_TESTS = [
  'test/extract/ingest-checks.test.ts',
  'test/extract/ingest-sigint.test.ts',
  'test/extract/reseller-tick.test.ts',
  'test/transform/transform-smoke.test.ts',
  'test/transform/sql-command.test.ts',
  'test/report/cli.test.ts',
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    // Replaces the suite's list (a merge would add to it).
    include: BUCKET_TESTS,
    setupFiles: ['test/support/lake-in-bucket.ts'],
  },
});

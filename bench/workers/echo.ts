/** A worker that only answers: lets the harness check its own plumbing without any stage. */
import { peakRssBytes, serveWorker } from '../lib/worker.ts';

serveWorker({
  echo: async (params: unknown) => ({ params, peakRss: await peakRssBytes() }),
});

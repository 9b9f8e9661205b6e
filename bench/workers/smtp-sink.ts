/**
 * The loopback SMTP sink in its own process: it stands in for the local relay a report run hands
 * its mail to (a separate process in any real setup), so its parsing of each message does not
 * share the event loop of the report stage being timed.
 */
import { startCountingSmtp, type CountingSmtp } from '../lib/smtp-sink.ts';
import { serveWorker } from '../lib/worker.ts';

let sink: CountingSmtp | undefined;

function running(): CountingSmtp {
  if (!sink) throw new Error('SMTP sink not started: call start first');
  return sink;
}

serveWorker({
  start: async () => {
    sink ??= await startCountingSmtp();
    return { url: sink.url };
  },
  received: async () => running().received(),
  largestBytes: async () => running().largestBytes(),
  close: async () => {
    await sink?.close();
    sink = undefined;
  },
});

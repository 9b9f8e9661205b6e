import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { startWorker } from './worker.ts';

/** An in-process SMTP server on 127.0.0.1 that accepts and counts every message (bodies are read, not kept). */
export interface CountingSmtp {
  url: string;
  received(): number;
  /** Largest message seen, in bytes (MIME, attachments included). */
  largestBytes(): number;
  close(): Promise<void>;
}

export async function startCountingSmtp(): Promise<CountingSmtp> {
  let count = 0;
  let largest = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    secure: false,
    logger: false,
    // Do not wait 30 s for pooled client connections when the bench closes the server.
    closeTimeout: 500,
    size: 50 * 2 ** 20,
    onData(stream, _session, cb) {
      let bytes = 0;
      stream.on('data', (c: Buffer) => (bytes += c.length));
      stream.on('end', () => {
        count++;
        largest = Math.max(largest, bytes);
        cb(null, `OK: queued as B${count}`);
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    received: () => count,
    largestBytes: () => largest,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The same counting SMTP server, in a process of its own (bench/workers/smtp-sink.ts). */
export interface SmtpSinkProcess {
  url: string;
  received(): Promise<number>;
  largestBytes(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts the counting SMTP server in its own process: the relay a report run sends to is another
 * process in any real setup, so parsing the messages must not take the report stage's thread.
 */
export async function startSmtpSinkProcess(opts: { signal?: AbortSignal } = {}): Promise<SmtpSinkProcess> {
  const worker = await startWorker('smtp-sink', { signal: opts.signal });
  try {
    const { url } = await worker.call<{ url: string }>('start');
    return {
      url,
      received: () => worker.call<number>('received'),
      largestBytes: () => worker.call<number>('largestBytes'),
      async close() {
        await worker.call('close');
        await worker.close();
      },
    };
  } catch (err) {
    await worker.close();
    throw err;
  }
}

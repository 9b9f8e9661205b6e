import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertFinding } from '../../pipeline/alerts/finding.ts';

/** A finding as a rule would return it; fields overridable. */
export function finding(over: Partial<AlertFinding> = {}): AlertFinding {
  return {
    rule: 'spend-velocity',
    domain: 'acme.example',
    key: '',
    windowStart: new Date('2026-11-28T03:00:00Z'),
    windowEnd: new Date('2026-11-28T04:00:00Z'),
    severity: 'critical',
    calls: 40,
    amount: '120.50',
    estimated: false,
    message: 'acme.example spent 120.50 USD on outbound calls in one hour (cap 50.00)',
    evidence: { cap: '50.00', sample_call_ids: ['c1', 'c2'] },
    ...over,
  };
}

export interface ReceivedRequest {
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A webhook receiver on 127.0.0.1 that answers each request as `behave` says (by the request's
 * number, from 1; `act-then-hang` acts on it but never answers), records every request, and acts once per idempotency key (as receivers should).
 */
export async function startReceiver(behave: (n: number, req: ReceivedRequest) => 'ok' | 'fail' | 'hang' | 'act-then-hang' = () => 'ok') {
  const requests: ReceivedRequest[] = [];
  const acted = new Map<string, string>();
  const hanging: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      requests.push(r);
      const how = behave(requests.length, r);
      if (how === 'hang') {
        hanging.push(res);
        return;
      }
      if (how === 'fail') {
        res.writeHead(503).end('busy');
        return;
      }
      const key = String(req.headers['idempotency-key']);
      if (!acted.has(key)) acted.set(key, r.body);
      if (how === 'act-then-hang') {
        // The receiver did the work, but its answer never reaches the sender.
        hanging.push(res);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    /** Idempotency key -> body, once per key: what the receiver acted on. */
    acted,
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

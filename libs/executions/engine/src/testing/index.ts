import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsMsg } from '@nats-io/jetstream';
import { CONSUMERS, type JobSnapshot, executionSubjects } from '@trigrun/execution-contracts';
import { GuardedHttpClient } from '@trigrun/http-client';
import { ConsumerRunner, type Messaging, connectionEpoch } from '@trigrun/messaging';
import { secretNamesIn, secretRedactor, substituteSecrets } from '@trigrun/secrets';
import { type EngineDeps, ExecutionEngine } from '../engine';
import type { ExecutionStore } from '@trigrun/execution-store';
import { engineFairness } from '../topology';

/** Fixtures for the engine's specs and the specs of the services that run it (not for production code). */

/** Workflow ports that do nothing: request jobs without a concurrency cap use none of them. */
export const NO_WORKFLOW_PORTS: EngineDeps['workflows'] = {
  sealer: { seal: () => ({ ciphertext: '', key_version: 1 }), open: () => '' },
  context: { seed: async () => ({}), merge: async () => undefined },
  timers: { schedule: async () => undefined, cancel: async () => undefined },
  slots: { acquire: async () => ({ admitted: true, alsoAdmitted: [] }), release: async () => [] },
};

/** The secret helpers as the step-runner passes them, and a workspace without secrets. */
export const NO_SECRETS: Pick<EngineDeps, 'secrets' | 'references'> = {
  secrets: { resolve: async () => new Map() },
  references: { secretNamesIn, substituteSecrets, secretRedactor },
};

/** Polls `probe` every 100 ms until it gives a truthy value (errors count as "not yet"). */
export async function waitUntil<T>(probe: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A target that counts the requests of each execution and answers 200, or never (`/hang`). */
export async function startTarget() {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    received.push(String(req.headers['x-cron-service-execution-id']));
    req.resume();
    if (req.url === '/hang') return;
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A one_time request job of one attempt. */
export const oneTimeJob = (url: string, timeoutSeconds = 5): JobSnapshot => ({
  name: 'recovery',
  kind: 'one_time',
  request: { url, method: 'GET', headers: {}, timeout_seconds: timeoutSeconds, success_statuses: [200] },
  retry_policy: { max_attempts: 1, retry_on_statuses: [] },
});

/** The engine as the step-runner wires it, on a real connection, with no-op workflow ports. */
export function engineOn(messaging: Messaging, store: Pick<ExecutionStore, 'load' | 'execute'>): ExecutionEngine {
  return new ExecutionEngine({
    store: store as ExecutionStore,
    http: new GuardedHttpClient({ allowlist: '127.0.0.1/32' }),
    ...NO_SECRETS,
    requestCallback: async () => undefined,
    workflows: NO_WORKFLOW_PORTS,
    now: () => new Date(),
    random: Math.random,
    logger: { warn: () => undefined, debug: () => undefined },
    connectionEpoch: connectionEpoch(messaging.nc),
  });
}

/** The step-runner's engine consumer (fair admission included); `hold` runs before each handler. */
export function engineRunner(
  messaging: Messaging,
  namespace: string,
  engine: ExecutionEngine,
  opts: { ackWaitMs: number; hold?: (msg: JsMsg) => Promise<void> },
): ConsumerRunner {
  const { hold } = opts;
  return new ConsumerRunner({
    js: messaging.js,
    stream: executionSubjects(namespace).stream,
    durable: CONSUMERS.stepRunnerEngine,
    handler: (msg, ctx) => (hold ? hold(msg).then(() => engine.handle(msg, ctx)) : engine.handle(msg, ctx)),
    concurrency: 8,
    fairness: engineFairness(8),
    ackWaitMs: opts.ackWaitMs,
    logger: { error: () => undefined, warn: () => undefined },
  });
}

import { createServer, type Server } from 'node:http';
import { Controller, Get, Header, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from './public.decorator';

export interface Gauge {
  readonly name: string;
  readonly help: string;
  readonly value: () => number;
  /** Prometheus type; `counter` for values that only grow (name them `*_total`). Default gauge. */
  readonly type?: 'gauge' | 'counter';
}

/** Gauges a service adds to its `/metrics` (e.g. the step-runner's executions held in memory). */
@Injectable()
export class MetricsRegistry {
  private readonly gauges = new Map<string, Gauge>();

  register(gauge: Gauge): void {
    this.gauges.set(gauge.name, gauge);
  }

  all(): Gauge[] {
    return [...this.gauges.values()];
  }
}

/**
 * Prometheus text: process memory, plus the service's gauges. `?gc=1` collects garbage first when
 * the process runs with `--expose-gc` (benchmarks only: `TRIGRUN_NODE_ARGS`), so the heap figure
 * is what is really live; without the flag it is ignored.
 */
export function renderMetrics(registry: MetricsRegistry, opts: { gc?: boolean } = {}): string {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (opts.gc && typeof collect === 'function') collect();
  const memory = process.memoryUsage();
  const gauges: Gauge[] = [
    { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', value: () => memory.rss },
    { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use: live objects, and garbage not yet collected unless ?gc=1 ran.', value: () => memory.heapUsed },
    ...registry.all(),
  ];
  return gauges.flatMap((g) => [`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} ${g.type ?? 'gauge'}`, `${g.name} ${g.value()}`]).join('\n') + '\n';
}

/** `GET /metrics` on each internal service's own port. */
@ApiExcludeController()
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(@Query('gc') gc?: string): string {
    return renderMetrics(this.registry, { gc: gc === '1' });
  }
}

/**
 * `/metrics` on a listener of its own, for the api-gateway: its port is the public one, and
 * internal pages are never reachable through the public base URL (so a proxy or Ingress in front
 * of it cannot expose them by mistake). Plain node:http: one read-only route needs no framework.
 */
export class MetricsListener implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: Server;

  constructor(
    private readonly registry: MetricsRegistry,
    private readonly port: number,
    private readonly host: string,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://metrics.local');
      if (req.method !== 'GET' || url.pathname !== '/metrics') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"Only GET /metrics is served here","details":{}}}');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(this.registry, { gc: url.searchParams.get('gc') === '1' }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => resolve());
    });
    this.server = server;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

import { Controller, Get, Header, Injectable, Query } from '@nestjs/common';
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
 * Prometheus text on each internal service's own port (the api-gateway, whose port is the public
 * one, does not serve it). Process memory, plus the service's gauges. `?gc=1` collects garbage
 * first when the process runs with `--expose-gc` (benchmarks only: `TRIGRUN_NODE_ARGS`), so the
 * heap figure is what is really live; without the flag it is ignored.
 */
@ApiExcludeController()
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly registry: MetricsRegistry) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(@Query('gc') gc?: string): string {
    const collect = (globalThis as { gc?: () => void }).gc;
    if (gc === '1' && typeof collect === 'function') collect();
    const memory = process.memoryUsage();
    const gauges: Gauge[] = [
      { name: 'process_resident_memory_bytes', help: 'Resident memory size in bytes.', value: () => memory.rss },
      { name: 'nodejs_heap_used_bytes', help: 'V8 heap in use: live objects, and garbage not yet collected unless ?gc=1 ran.', value: () => memory.heapUsed },
      ...this.registry.all(),
    ];
    return gauges.flatMap((g) => [`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} ${g.type ?? 'gauge'}`, `${g.name} ${g.value()}`]).join('\n') + '\n';
  }
}

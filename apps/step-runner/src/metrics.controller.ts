import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@trigrun/nest';
import { EngineConsumer } from './engine.consumer';

/**
 * Prometheus text for the step-runner's own state. `trigrun_engine_cached_executions` is the only
 * per-execution memory the service holds: executions in flight on this replica. Parked and
 * queued executions are not in it (they live in JetStream and PostgreSQL), which is what makes
 * parking cost rows, not memory. Served on the service port only; the gateway does not proxy it.
 */
@Public()
@Controller()
export class MetricsController {
  constructor(private readonly engine: EngineConsumer) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  metrics(): string {
    const memory = process.memoryUsage();
    return [
      '# HELP trigrun_engine_cached_executions Executions held in the engine memory of this replica (in flight).',
      '# TYPE trigrun_engine_cached_executions gauge',
      `trigrun_engine_cached_executions ${this.engine.cachedExecutions}`,
      '# HELP process_resident_memory_bytes Resident memory size in bytes.',
      '# TYPE process_resident_memory_bytes gauge',
      `process_resident_memory_bytes ${memory.rss}`,
      '# HELP nodejs_heap_used_bytes V8 heap in use (live objects and garbage not yet collected).',
      '# TYPE nodejs_heap_used_bytes gauge',
      `nodejs_heap_used_bytes ${memory.heapUsed}`,
      '',
    ].join('\n');
  }
}

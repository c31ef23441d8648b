import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { JobOutbox } from './job-outbox';

/** How often the relay looks for outbox entries a request could not carry out itself. */
export const RELAY_INTERVAL_MS = 1_000;

/**
 * Carries out, in the background, the outbox entries whose request could not (the broker went
 * away between the commit and the publish, or the process died there). Runs in every api-gateway
 * replica; the entries' leases keep two relays from doing the same entry at once, and an entry
 * done twice has the effect of once anyway (JobOutbox).
 */
@Injectable()
export class JobOutboxRelay implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('job-outbox');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly outbox: JobOutbox) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.outbox
        .relay()
        .then((done) => {
          if (done > 0) this.logger.log(`relayed ${done} outbox entr${done === 1 ? 'y' : 'ies'}`);
        })
        // The database itself away: the next round tries again.
        .catch((error: unknown) => this.logger.debug?.(`relay round failed: ${(error as Error).message}`))
        .finally(() => {
          this.running = undefined;
        });
    }, RELAY_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

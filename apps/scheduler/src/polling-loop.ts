/**
 * Calls `tick` every `intervalMs`, start to start (a tick longer than the interval is followed
 * at once by the next). A failed tick is reported and the loop goes on. `stop()` cuts the wait
 * short and resolves once the tick in progress has finished.
 */
export class PollingLoop {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly intervalMs: number,
    private readonly tick: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const started = Date.now();
      try {
        await this.tick();
      } catch (error) {
        this.onError(error);
      }
      const wait = this.intervalMs - (Date.now() - started);
      if (wait > 0 && this.running) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

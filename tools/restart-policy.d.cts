export interface RestartPolicyOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  maxCrashes?: number;
  windowMs?: number;
}

export type RestartDecision = { restart: true; delayMs: number; crashes: number } | { restart: false; crashes: number };

export declare class RestartPolicy {
  constructor(options?: RestartPolicyOptions);
  readonly options: Required<RestartPolicyOptions>;
  crashed(now: number, upMs: number): RestartDecision;
  describeBudget(): string;
}

export declare const RESTART_DEFAULTS: Readonly<Required<RestartPolicyOptions>>;
export declare function restartPolicyOptions(env: Record<string, string | undefined>): RestartPolicyOptions;
export declare function parseDuration(text: string, name: string): number;
export declare function formatDuration(ms: number): string;
export declare function describeExit(code: number | null, signal: NodeJS.Signals | string | null): string;

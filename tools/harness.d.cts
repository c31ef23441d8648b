import type { ChildProcess } from 'node:child_process';

export declare const SERVICES: readonly string[];

export interface Platform {
  baseUrl: string;
  port: number;
  namespace: string;
  database: string;
  pgBase: string;
  launcher: ChildProcess;
  servicePids(): Record<string, number>;
  stop(): Promise<void>;
}

export declare function startPlatform(opts?: { env?: Record<string, string>; verbose?: boolean; label?: string }): Promise<Platform>;
export declare const ROOMY_LIMITS: Readonly<Record<string, string>>;
export declare function servicePids(namespace: string): Record<string, number>;
export declare function cleanup(state: { namespace: string; database: string; pgBase: string }): Promise<void>;

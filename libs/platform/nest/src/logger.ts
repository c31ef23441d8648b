import type { LoggerService, LogLevel } from '@nestjs/common';

const LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|api[-_]?key|master[-_]?key|credential/i;

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** One JSON object per line on stdout: what log collectors in Kubernetes expect. */
export class JsonLogger implements LoggerService {
  private readonly threshold: number;

  constructor(
    private readonly service: string,
    level: Level = 'info',
    private readonly pretty = false,
  ) {
    this.threshold = LEVELS.indexOf(level);
  }

  log(message: unknown, ...rest: unknown[]) {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  setLogLevels?(_levels: LogLevel[]) {
    // the level is fixed by TRIGRUN_LOG_LEVEL at boot
  }

  private write(level: Level, message: unknown, rest: unknown[]) {
    if (LEVELS.indexOf(level) > this.threshold) return;
    // Nest passes the context as the last string argument, and a stack before it for errors.
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? (rest.pop() as string) : undefined;
    const meta = rest.find((r) => typeof r === 'object' && r !== null) as object | undefined;
    const stack = rest.find((r) => typeof r === 'string') as string | undefined;
    if (message instanceof Error) {
      rest.unshift(message.stack ?? '');
      message = `${message.name}: ${message.message}`;
    }
    const line = {
      time: new Date().toISOString(),
      level,
      service: this.service,
      ...(context ? { context } : {}),
      msg: typeof message === 'string' ? message : JSON.stringify(redact(message)),
      ...(meta ? (redact(meta) as object) : {}),
      ...(stack && level === 'error' ? { stack } : {}),
    };
    if (this.pretty) {
      process.stdout.write(`${line.time} ${level.toUpperCase().padEnd(5)} [${this.service}${context ? `/${context}` : ''}] ${line.msg}${meta ? ` ${JSON.stringify(redact(meta))}` : ''}\n`);
    } else {
      process.stdout.write(`${JSON.stringify(line)}\n`);
    }
  }
}

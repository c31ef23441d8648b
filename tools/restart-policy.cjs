// When `npm start` restarts a process that died, and when it gives up. Pure (time comes in as
// data) so the policy is unit-tested without processes; tools/start.mjs (the services) and
// tools/supervise.mjs (nats-server, redis-server, embedded PostgreSQL) both apply it.
//
//   - backoff: the first restart waits `initialDelayMs`, each further consecutive crash doubles
//     it, up to `maxDelayMs`, like the kubelet's CrashLoopBackOff;
//   - reset: a process that stayed up for `windowMs` or longer counts as healthy again, so its
//     next crash restarts after `initialDelayMs`;
//   - budget: the `maxCrashes`-th crash within `windowMs` is not restarted: the caller stops the
//     whole platform and says why. A crash loop on one machine is a bug or a broken dependency
//     that an operator must look at; restarting forever would only hide it in a log.

const DEFAULTS = Object.freeze({ initialDelayMs: 1000, maxDelayMs: 30_000, maxCrashes: 5, windowMs: 60_000 });

class RestartPolicy {
  constructor(options = {}) {
    this.options = { ...DEFAULTS, ...options };
    const { initialDelayMs, maxDelayMs, maxCrashes, windowMs } = this.options;
    if (!(initialDelayMs > 0 && maxDelayMs >= initialDelayMs && Number.isInteger(maxCrashes) && maxCrashes >= 1 && windowMs > 0)) {
      throw new Error(`invalid restart policy ${JSON.stringify(this.options)}`);
    }
    this.crashTimes = [];
    this.consecutive = 0;
  }

  /**
   * A process that ran for `upMs` exited unexpectedly at `now` (ms). Returns
   * `{ restart: true, delayMs, crashes }` or `{ restart: false, crashes }`; `crashes` counts the
   * crashes within the window, this one included.
   */
  crashed(now, upMs) {
    const { initialDelayMs, maxDelayMs, maxCrashes, windowMs } = this.options;
    this.crashTimes = this.crashTimes.filter((t) => t > now - windowMs);
    this.crashTimes.push(now);
    const crashes = this.crashTimes.length;
    if (crashes >= maxCrashes) return { restart: false, crashes };
    if (upMs >= windowMs) this.consecutive = 0;
    this.consecutive++;
    const delayMs = Math.min(initialDelayMs * 2 ** (this.consecutive - 1), maxDelayMs);
    return { restart: true, delayMs, crashes };
  }

  /** "5 crashes within 60s", for log lines. */
  describeBudget() {
    return `${this.options.maxCrashes} crashes within ${formatDuration(this.options.windowMs)}`;
  }
}

const UNITS = { ms: 1, s: 1000, m: 60_000 };

function parseDuration(text, name) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)\s*$/.exec(String(text));
  if (!match || Number(match[1]) <= 0) throw new Error(`${name}: expected a duration such as 500ms, 2s or 1m, got ${JSON.stringify(text)}`);
  return Number(match[1]) * UNITS[match[2]];
}

function formatDuration(ms) {
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${Number((ms / 1000).toFixed(1))}s`;
  return `${ms / 60_000}m`;
}

/**
 * The policy from the launcher's environment (README, "Configuration"):
 *   TRIGRUN_RESTART_LIMIT      `<crashes>/<window>`, default 5/60s (1/… stops on the first crash)
 *   TRIGRUN_RESTART_DELAY      first restart delay, default 1s
 *   TRIGRUN_RESTART_MAX_DELAY  backoff cap, default 30s
 * Invalid values throw, naming the variable, so the launcher refuses to start.
 */
function restartPolicyOptions(env) {
  const options = {};
  if (env.TRIGRUN_RESTART_LIMIT) {
    const match = /^\s*(\d+)\s*\/\s*(.+)$/.exec(env.TRIGRUN_RESTART_LIMIT);
    if (!match || Number(match[1]) < 1) throw new Error(`TRIGRUN_RESTART_LIMIT: expected <crashes>/<window> such as 5/60s, got ${JSON.stringify(env.TRIGRUN_RESTART_LIMIT)}`);
    options.maxCrashes = Number(match[1]);
    options.windowMs = parseDuration(match[2], 'TRIGRUN_RESTART_LIMIT');
  }
  if (env.TRIGRUN_RESTART_DELAY) options.initialDelayMs = parseDuration(env.TRIGRUN_RESTART_DELAY, 'TRIGRUN_RESTART_DELAY');
  if (env.TRIGRUN_RESTART_MAX_DELAY) options.maxDelayMs = parseDuration(env.TRIGRUN_RESTART_MAX_DELAY, 'TRIGRUN_RESTART_MAX_DELAY');
  const { initialDelayMs, maxDelayMs } = { ...DEFAULTS, ...options };
  if (maxDelayMs < initialDelayMs) throw new Error(`TRIGRUN_RESTART_MAX_DELAY (${formatDuration(maxDelayMs)}) is below TRIGRUN_RESTART_DELAY (${formatDuration(initialDelayMs)})`);
  return options;
}

/** How a child process ended, for log lines: "killed by SIGKILL" or "exit code 1". */
function describeExit(code, signal) {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

module.exports = { RestartPolicy, restartPolicyOptions, parseDuration, formatDuration, describeExit, RESTART_DEFAULTS: DEFAULTS };

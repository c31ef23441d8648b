import { RestartPolicy, describeExit, formatDuration, restartPolicyOptions } from './restart-policy.cjs';

describe('RestartPolicy (npm start supervision)', () => {
  const options = { initialDelayMs: 1000, maxDelayMs: 8000, maxCrashes: 5, windowMs: 60_000 };

  it('backs off exponentially, capped, for a process that keeps crashing soon after start', () => {
    const policy = new RestartPolicy({ ...options, maxCrashes: 100, windowMs: 1_000_000 });
    const delays = Array.from({ length: 6 }, (_, i) => policy.crashed(i * 100, 50));
    expect(delays.map((d) => (d.restart ? d.delayMs : 'stop'))).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
  });

  it('starts the backoff over once the process has stayed up for the whole window', () => {
    const policy = new RestartPolicy(options);
    policy.crashed(0, 10);
    policy.crashed(1_000, 10);
    expect(policy.crashed(3_000, 10)).toEqual({ restart: true, delayMs: 4000, crashes: 3 });
    // up for 60 s: healthy again; the three early crashes have also left the window
    expect(policy.crashed(70_000, 60_000)).toEqual({ restart: true, delayMs: 1000, crashes: 1 });
  });

  it('gives up on the maxCrashes-th crash within the window', () => {
    const policy = new RestartPolicy(options);
    const decisions = [0, 2_000, 5_000, 10_000, 20_000].map((t) => policy.crashed(t, 500));
    expect(decisions.map((d) => d.restart)).toEqual([true, true, true, true, false]);
    expect(decisions[4]).toEqual({ restart: false, crashes: 5 });
  });

  it('forgets crashes older than the window', () => {
    const policy = new RestartPolicy(options);
    for (const t of [0, 10_000, 20_000, 30_000]) expect(policy.crashed(t, 500).restart).toBe(true);
    // the crash at 0 is out of the window by now: four within it, not five
    expect(policy.crashed(60_001, 500)).toMatchObject({ restart: true, crashes: 4 });
    expect(policy.crashed(60_002, 0)).toEqual({ restart: false, crashes: 5 });
  });

  it('a budget of 1 stops on the first crash', () => {
    expect(new RestartPolicy({ maxCrashes: 1 }).crashed(0, 1_000_000)).toEqual({ restart: false, crashes: 1 });
  });

  it('defaults: 1s first delay, 5 crashes within 60s', () => {
    const policy = new RestartPolicy();
    expect(policy.crashed(0, 0)).toEqual({ restart: true, delayMs: 1000, crashes: 1 });
    expect(policy.describeBudget()).toBe('5 crashes within 1m');
  });

  describe('restartPolicyOptions (launcher environment)', () => {
    it('reads TRIGRUN_RESTART_LIMIT, TRIGRUN_RESTART_DELAY and TRIGRUN_RESTART_MAX_DELAY', () => {
      expect(restartPolicyOptions({})).toEqual({});
      expect(restartPolicyOptions({ TRIGRUN_RESTART_LIMIT: '3/90s', TRIGRUN_RESTART_DELAY: '250ms', TRIGRUN_RESTART_MAX_DELAY: '2m' })).toEqual({
        maxCrashes: 3,
        windowMs: 90_000,
        initialDelayMs: 250,
        maxDelayMs: 120_000,
      });
    });

    it.each([
      [{ TRIGRUN_RESTART_LIMIT: '5' }, /TRIGRUN_RESTART_LIMIT/],
      [{ TRIGRUN_RESTART_LIMIT: '0/60s' }, /TRIGRUN_RESTART_LIMIT/],
      [{ TRIGRUN_RESTART_LIMIT: '5/sixty' }, /TRIGRUN_RESTART_LIMIT/],
      [{ TRIGRUN_RESTART_DELAY: '-1s' }, /TRIGRUN_RESTART_DELAY/],
      [{ TRIGRUN_RESTART_DELAY: '0s' }, /TRIGRUN_RESTART_DELAY/],
      [{ TRIGRUN_RESTART_MAX_DELAY: '1h' }, /TRIGRUN_RESTART_MAX_DELAY/],
      [{ TRIGRUN_RESTART_DELAY: '10s', TRIGRUN_RESTART_MAX_DELAY: '5s' }, /below TRIGRUN_RESTART_DELAY/],
    ])('refuses %j, naming the variable', (env, message) => {
      expect(() => restartPolicyOptions(env)).toThrow(message);
    });
  });

  it('describes exits and durations for log lines', () => {
    expect(describeExit(null, 'SIGKILL')).toBe('killed by SIGKILL');
    expect(describeExit(1, null)).toBe('exit code 1');
    expect([250, 1500, 60_000, 90_000].map(formatDuration)).toEqual(['250ms', '1.5s', '1m', '90s']);
  });
});

/**
 * Whether `probe` answers true within `timeoutMs`: false on a rejection or when time runs out
 * (readiness probes: a dependency that does not answer is down, and the probe never hangs). The
 * timer is cleared either way, so a fast answer leaves nothing scheduled.
 */
export async function answersWithin(probe: () => Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

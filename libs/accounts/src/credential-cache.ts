import { performance } from 'node:perf_hooks';
import type { RedisClient } from '@trigrun/redis';

/**
 * A cached fact and its guard. The entry holds what the database said (an API token's grant, a
 * membership's role); the guard is a counter that every change of that fact moves, and that
 * outlives any entry by far.
 */
export interface GuardedKey {
  readonly entry: string;
  readonly guard: string;
}

/** An API token's lookup; its guard is the revocation tombstone. */
export const tokenKey = (tokenHash: string): GuardedKey => ({ entry: `pat:${tokenHash}`, guard: `pat-revoked:${tokenHash}` });
/** A user's role in a workspace (or that they have none); its guard is bumped by every membership change. */
export const membershipKey = (workspaceId: string, userId: string): GuardedKey => ({
  entry: `mbr:${workspaceId}:${userId}`,
  guard: `mbr-ver:${workspaceId}:${userId}`,
});

/** What one read saw: the entry if there was one, and the guard at that moment ('' when absent). */
export interface CacheSnapshot {
  readonly value: string | null;
  readonly guard: string;
  readonly takenAt: number;
}

export interface CredentialCacheOptions {
  /** How long an entry lives. Changes do not wait for it: they delete the entry. */
  readonly entrySeconds: number;
  /** How long a guard outlives its last change: far longer than an entry and than any fill can take. */
  readonly guardSeconds: number;
  /** A fill whose snapshot (taken before its database read) is older than this is dropped. */
  readonly fillDeadlineMs: number;
  /** Authentication waits this long for Redis before it reads the database instead. */
  readonly readTimeoutMs: number;
  /** A change waits this long for its invalidation before it answers 503. */
  readonly invalidateTimeoutMs: number;
}

export const CREDENTIAL_CACHE_DEFAULTS: CredentialCacheOptions = {
  entrySeconds: 60,
  guardSeconds: 24 * 3600,
  fillDeadlineMs: 5_000,
  readTimeoutMs: 250,
  invalidateTimeoutMs: 2_000,
};

/** Redis did not take an invalidation: the change is in the database, but a cached entry may survive it. */
export class CacheUnavailableError extends Error {
  constructor(cause: unknown) {
    super('The credential cache could not be invalidated', { cause });
    this.name = 'CacheUnavailableError';
  }
}

// Writes the entry only if the guard is still what the filler saw before its database read.
const FILL = `
local guard = redis.call('GET', KEYS[2]) or ''
if guard ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1`;

// Moves each guard, then deletes its entry, all in one step (KEYS come in entry, guard pairs).
const INVALIDATE = `
for i = 1, #KEYS, 2 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('EXPIRE', KEYS[i + 1], ARGV[1])
  redis.call('DEL', KEYS[i])
end
return #KEYS / 2`;

interface GuardedCommands {
  trigrunGuardedFill(entry: string, guard: string, seenGuard: string, value: string, seconds: number): Promise<number>;
  trigrunGuardedInvalidate(numberOfKeys: number, ...keysThenSeconds: (string | number)[]): Promise<number>;
}

/**
 * The credential cache in Redis, written so that a change which has answered can never be undone
 * by a fill that was already under way. A fill is: snapshot (entry + guard, one MGET) → database
 * read → FILL(seen guard). A change is: database commit → INVALIDATE (guard += 1, entry deleted,
 * atomically) → answer. Redis runs each script whole, so the interleavings are:
 *
 *  1. snapshot, db read (old), commit, INVALIDATE, FILL   → FILL sees a moved guard: nothing written.
 *     (The race of issue 9: the revoke landed between the read and the fill.)
 *  2. snapshot, db read (old), commit, FILL, INVALIDATE   → the stale entry is written, then deleted
 *     before the change answers.
 *  3. snapshot, db read (old), FILL, commit, INVALIDATE   → as 2.
 *  4. snapshot, commit, db read (new), INVALIDATE, FILL   → nothing written (a lost fill, harmless).
 *  5. snapshot, commit, db read (new), FILL, INVALIDATE   → written, then deleted: harmless.
 *  6. snapshot, commit, INVALIDATE, db read (new), FILL   → nothing written.
 *  7. commit, snapshot, db read (new), INVALIDATE, FILL   → snapshot saw the old guard: nothing written.
 *  8. commit, INVALIDATE, snapshot, …                     → the snapshot sees the new guard and no
 *     entry; the database read is after the commit, so the fill writes the new fact.
 *  9. a hit just before INVALIDATE                        → a request authenticated before the change
 *     answered; it is concurrent with the change, not after it.
 * So after INVALIDATE no entry exists, and the only fills that can still write are those whose
 * snapshot follows INVALIDATE, hence whose database read follows the commit (8).
 *
 * The guard's lifetime closes the last gap: a guard that expired and came back equal to an old
 * snapshot (absent again) could let that snapshot's fill through. Guards live `guardSeconds`
 * (a day) after their last change and a fill is dropped once its snapshot is `fillDeadlineMs` old.
 * This assumes Redis does not evict keys (maxmemory-policy noeviction, the default); an evicted
 * guard would reopen case 1 for fills in flight at that moment.
 *
 * Redis down: reads answer null after `readTimeoutMs` (or at once when the client is not
 * connected) and the caller reads the database and does not fill, so authentication never falls
 * back to an entry it could not check. An invalidation that fails throws CacheUnavailableError;
 * the change is committed but must not answer success (an entry may survive), and repeating the
 * change repeats the invalidation; the replica also repeats it on its own once Redis is back.
 *
 * Both scripts touch several keys: on a Redis Cluster an entry and its guard would need one hash
 * slot (a `{…}` hash tag); the project runs a single Redis.
 */
export class CredentialCache {
  private readonly redis: RedisClient & GuardedCommands;
  /** Invalidations Redis did not take, retried when it is back, until no entry they target can exist any more. */
  private readonly pending = new Map<string, { readonly key: GuardedKey; readonly until: number }>();

  constructor(
    redis: RedisClient,
    private readonly options: CredentialCacheOptions = CREDENTIAL_CACHE_DEFAULTS,
  ) {
    // defineCommand sends EVALSHA and falls back to EVAL once per connection; it applies the
    // client's key prefix to KEYS like any other command.
    if (!('trigrunGuardedFill' in redis)) {
      redis.defineCommand('trigrunGuardedFill', { numberOfKeys: 2, lua: FILL });
      redis.defineCommand('trigrunGuardedInvalidate', { lua: INVALIDATE });
    }
    this.redis = redis as RedisClient & GuardedCommands;
    this.redis.on('ready', () => void this.retryPending());
  }

  /** The entry and its guard, or null when Redis cannot answer now (then: database, no fill). */
  async read(key: GuardedKey): Promise<CacheSnapshot | null> {
    if (this.redis.status !== 'ready') return null;
    const takenAt = performance.now();
    try {
      const [value, guard] = await within(this.redis.mget(key.entry, key.guard), this.options.readTimeoutMs);
      return { value, guard: guard ?? '', takenAt };
    } catch {
      return null;
    }
  }

  /** Caches `value` unless the guard moved since `snapshot` (see the class comment). True if written. */
  async fill(key: GuardedKey, snapshot: CacheSnapshot, value: string): Promise<boolean> {
    if (performance.now() - snapshot.takenAt > this.options.fillDeadlineMs) return false;
    try {
      const written = await within(
        this.redis.trigrunGuardedFill(key.entry, key.guard, snapshot.guard, value, this.options.entrySeconds),
        this.options.invalidateTimeoutMs,
      );
      return written === 1;
    } catch {
      // A fill that failed, or that arrives late, is guarded by the same script: nothing to undo.
      return false;
    }
  }

  /** Moves the guards and deletes the entries of `keys` in one step; throws CacheUnavailableError. */
  async invalidate(keys: readonly GuardedKey[]): Promise<void> {
    if (keys.length === 0) return;
    try {
      await this.runInvalidate(keys);
    } catch (error) {
      // The caller answers 503 and the client should repeat the change; this replica also
      // repeats the invalidation itself as soon as Redis is back, in case the client does not.
      // Past `until`, no entry filled before the change can be alive: a fill is at most
      // fillDeadlineMs behind its database read, and an entry lives entrySeconds.
      const until = performance.now() + this.options.fillDeadlineMs + this.options.entrySeconds * 1000;
      for (const key of keys) this.pending.set(key.entry, { key, until });
      throw new CacheUnavailableError(error);
    }
  }

  /** How many invalidations wait for Redis to come back (for operators and tests). */
  get pendingInvalidations(): number {
    return this.pending.size;
  }

  private async runInvalidate(keys: readonly GuardedKey[]): Promise<void> {
    const names = keys.flatMap((key) => [key.entry, key.guard]);
    await within(this.redis.trigrunGuardedInvalidate(names.length, ...names, this.options.guardSeconds), this.options.invalidateTimeoutMs);
  }

  private async retryPending(): Promise<void> {
    const now = performance.now();
    const due = [...this.pending.values()].filter((item) => item.until > now);
    this.pending.clear();
    if (due.length === 0) return;
    try {
      await this.runInvalidate(due.map((item) => item.key));
    } catch {
      // Down again: keep them, with their own deadlines, for the next reconnection.
      for (const item of due) if (!this.pending.has(item.key.entry)) this.pending.set(item.key.entry, item);
    }
  }
}

/** Bounds a Redis call: ioredis keeps a command queued while it reconnects, for up to a connect timeout per retry. */
function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

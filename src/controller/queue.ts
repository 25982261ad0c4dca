// The work queue between event handlers and reconcile workers, after client-go's: a key is queued
// at most once however often it is added (dedup), handed to one worker at a time (a key added while
// it is being processed is queued again when that worker is done), and a key whose reconcile failed
// comes back after an exponential, per-key delay instead of a whole resync interval.

export interface WorkQueueOptions {
  /** First retry delay after a failure, ms; doubled per consecutive failure. Default 100. */
  baseDelayMs?: number;
  /** Longest retry delay, ms. Default 60 000. */
  maxDelayMs?: number;
}

export class WorkQueue {
  readonly #baseMs: number;
  readonly #maxMs: number;
  #order: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  /** Added while being processed: queued again by `done`. */
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #waiters: Array<(key: string | undefined) => void> = [];
  #shutDown = false;

  constructor(o: WorkQueueOptions = {}) {
    this.#baseMs = o.baseDelayMs ?? 100;
    this.#maxMs = o.maxDelayMs ?? 60_000;
  }

  /** Keys waiting for a worker. */
  get length(): number {
    return this.#order.length;
  }

  get shuttingDown(): boolean {
    return this.#shutDown;
  }

  /** Queues `key` unless it is queued already; a key being processed is queued again when done. */
  add(key: string): void {
    if (this.#shutDown || this.#queued.has(key)) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#order.push(key);
  }

  /** Adds `key` after `delayMs`; an earlier pending delay for the key stands. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown || this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.#timers.set(key, timer);
  }

  /** Adds `key` after its backoff: base x 2^(failures so far), capped. Counts a failure. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count (its reconcile succeeded). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Consecutive failures recorded for the key. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key, once there is one; undefined once shut down. Call `done(key)` after processing it. */
  get(): Promise<string | undefined> {
    const key = this.#order.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The worker is done with `key`: if it was added meanwhile, it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Drops every queued and delayed key; waiting workers get undefined. Processing keys finish. */
  shutDown(): void {
    this.#shutDown = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#order = [];
    this.#queued.clear();
    this.#dirty.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}

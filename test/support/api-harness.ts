// Per-test lifecycle of tests against the fake API server: a fresh server before each test, and
// after it whatever the test started (controllers, informers, electors) stopped, then the server
// closed, so no watch outlives its test.
import { afterEach, beforeEach } from 'vitest';
import { FakeApiServer } from './fake-apiserver.js';

export interface Stoppable {
  stop(): Promise<unknown> | unknown;
}

export interface ApiHarness {
  /** This test's server; only inside a test or its hooks. */
  readonly api: FakeApiServer;
  /** Stops `s` after the test, before the server closes; returns `s`. */
  stopAfter<T extends Stoppable>(s: T): T;
}

/** Registers the hooks in the calling file (or describe block). */
export function useFakeApiServer(): ApiHarness {
  let api: FakeApiServer | undefined;
  const started: Stoppable[] = [];
  beforeEach(async () => {
    api = await FakeApiServer.start();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.stop()));
    await api?.close();
    api = undefined;
  });
  return {
    get api() {
      if (!api) throw new Error('the fake API server runs only inside a test (beforeEach to afterEach)');
      return api;
    },
    stopAfter(s) {
      started.push(s);
      return s;
    },
  };
}

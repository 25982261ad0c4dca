import { describe, expect, it } from 'vitest';
import { EngineFleet } from '../../../bench/engine-fleet.js';
import { engineSetup } from '../../../src/simulator/index.js';

const setup = engineSetup('meta-llama/Llama-3.1-8B-Instruct', 'A100', { maxNumSeqs: 64 });
const lengths = { input: { mean: 512, cv: 0.5 }, output: { mean: 128, cv: 0.5 } };

describe('the benchmark fleet of simulated engines', () => {
  it('holds requests while no pod is ready, serves them once one is, and drains a removed pod', () => {
    const f = new EngineFleet({ setup, initialReplicas: 0, startupMs: 10_000, seed: 1, ...lengths });
    f.setReplicas(1, 0);
    let served = 0;
    for (let t = 0; t < 9000; t += 1000) {
      const s = f.step(t, 1000, 300);
      served += s.served;
      expect(s.ready).toBe(0);
    }
    served += f.step(9000, 1000, 300).served;
    expect(served).toBe(0);
    const held = f.step(10_000, 1000, 300);
    expect(held.ready).toBe(1);
    for (let t = 11_000; t < 60_000; t += 1000) served += f.step(t, 1000, 300).served;
    // 5 requests/s for a minute; those held for 10 s first (TTFT from the client's send).
    expect(served).toBeGreaterThan(200);
    expect(f.finished.some((r) => r.firstTokenMs! - r.arrivalMs > 5000)).toBe(true);
    f.setReplicas(2, 60_000);
    for (let t = 60_000; t < 90_000; t += 1000) f.step(t, 1000, 300);
    f.setReplicas(1, 90_000);
    const before = f.finished.length;
    for (let t = 90_000; t < 120_000; t += 1000) f.step(t, 1000, 0);
    // Everything sent has finished: the removed pod finished what it held.
    expect(f.finished.length).toBeGreaterThan(before);
    const last = f.step(120_000, 1000, 0);
    expect(last.running + last.waiting).toBe(0);
    expect(f.replicas).toBe(1);
  });
});

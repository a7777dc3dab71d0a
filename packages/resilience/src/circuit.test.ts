import { describe, expect, it } from 'vitest';
import { createCircuit } from './circuit.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const hang = () => new Promise<never>(() => {});
const fail = () => Promise.reject(new Error('refused'));

describe('fail-fast circuit', () => {
  it('opens after consecutive failure episodes and then skips every call at once', async () => {
    let opened = 0;
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 3, openMs: 10_000 });
    circuit.onOpen(() => opened++);
    expect((await circuit.call(fail)).outcome).toBe('error');
    expect(circuit.degraded()).toBe(true);
    expect(circuit.isOpen()).toBe(false);
    expect((await circuit.call(hang)).outcome).toBe('timeout');
    expect(circuit.isOpen()).toBe(false);
    expect((await circuit.call(fail)).outcome).toBe('error');
    expect(circuit.isOpen()).toBe(true);
    expect(opened).toBe(1);
    let ran = false;
    const started = performance.now();
    const skipped = await circuit.call(async () => {
      ran = true;
      return 1;
    });
    expect(skipped.outcome).toBe('skipped');
    expect(ran).toBe(false);
    expect(performance.now() - started).toBeLessThan(5);
  });

  it('counts calls that were in flight together as one episode (one stall times out every pipelined call)', async () => {
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 2, openMs: 10_000 });
    const results = await Promise.all(Array.from({ length: 10 }, () => circuit.call(hang)));
    expect(results.map((r) => r.outcome)).toEqual(Array(10).fill('timeout'));
    expect(circuit.isOpen()).toBe(false);
    // A call sent after the failure fails too: a second episode opens it.
    await circuit.call(hang);
    expect(circuit.isOpen()).toBe(true);
  });

  it('after the first failure one probe goes out at a time; the other calls skip at once until it is back', async () => {
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 3, openMs: 10_000 });
    // The onset: every call in flight fails with the first episode.
    const onset = await Promise.all(Array.from({ length: 10 }, () => circuit.call(hang)));
    expect(onset.map((r) => r.outcome)).toEqual(Array(10).fill('timeout'));
    expect(circuit.isOpen()).toBe(false);
    // Suspect: of ten calls only the first goes out (and waits); nine skip without running.
    let ran = 0;
    const started = performance.now();
    const probe = circuit.call(() => {
      ran++;
      return hang();
    });
    const others = await Promise.all(
      Array.from({ length: 9 }, () =>
        circuit.call(async () => {
          ran++;
          return 1;
        }),
      ),
    );
    expect(performance.now() - started).toBeLessThan(10);
    expect(others.map((r) => r.outcome)).toEqual(Array(9).fill('skipped'));
    expect(ran).toBe(1);
    expect(circuit.degraded()).toBe(true);
    expect((await probe).outcome).toBe('timeout');
    expect(circuit.isOpen()).toBe(false);
    // The next probe's failure is the third episode: open.
    const next = await Promise.all(Array.from({ length: 5 }, () => circuit.call(hang)));
    expect(next.map((r) => r.outcome).sort()).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'timeout']);
    expect(circuit.isOpen()).toBe(true);
  });

  it('a probe that succeeds closes the circuit: every call goes out again', async () => {
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 3, openMs: 10_000 });
    expect((await circuit.call(fail)).outcome).toBe('error');
    let answer: (value: string) => void = () => {};
    const probe = circuit.call(
      () =>
        new Promise<string>((resolve) => {
          answer = resolve;
        }),
    );
    expect((await circuit.call(async () => 'other')).outcome).toBe('skipped');
    answer('back');
    expect(await probe).toEqual({ outcome: 'ok', value: 'back' });
    expect(circuit.degraded()).toBe(false);
    const all = await Promise.all(Array.from({ length: 5 }, () => circuit.call(async () => 'ok')));
    expect(all.map((r) => r.outcome)).toEqual(Array(5).fill('ok'));
  });

  it('a probe that fails late by the process (lagged) is no evidence; the next call probes again', async () => {
    const circuit = createCircuit({ timeoutMs: 10, failuresToOpen: 2, openMs: 10_000 });
    await circuit.call(fail);
    const probe = circuit.call(hang);
    const until = performance.now() + 40;
    while (performance.now() < until);
    expect((await probe).outcome).toBe('timeout');
    expect(circuit.isOpen()).toBe(false);
    // Still suspect: the next call is the probe, the one alongside it skips.
    const [next, beside] = await Promise.all([circuit.call(async () => 'back'), circuit.call(async () => 'beside')]);
    expect(next).toEqual({ outcome: 'ok', value: 'back' });
    expect(beside.outcome).toBe('skipped');
    expect(circuit.degraded()).toBe(false);
  });

  it('half-open: exactly one trial goes out, the others skip; its success closes the circuit', async () => {
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 1, openMs: 50 });
    await circuit.call(fail);
    expect(circuit.isOpen()).toBe(true);
    await sleep(60);
    expect(circuit.isOpen()).toBe(false);
    let calls = 0;
    let answer: (value: string) => void = () => {};
    const trial = circuit.call(() => {
      calls++;
      return new Promise<string>((resolve) => {
        answer = resolve;
      });
    });
    const others = await Promise.all(
      Array.from({ length: 5 }, () =>
        circuit.call(async () => {
          calls++;
          return 'other';
        }),
      ),
    );
    expect(others.map((r) => r.outcome)).toEqual(Array(5).fill('skipped'));
    expect(calls).toBe(1);
    answer('ok');
    expect(await trial).toEqual({ outcome: 'ok', value: 'ok' });
    expect(circuit.degraded()).toBe(false);
    expect((await circuit.call(async () => 2)).outcome).toBe('ok');
  });

  it('a failed trial opens the circuit again at once', async () => {
    let opened = 0;
    const circuit = createCircuit({ timeoutMs: 20, failuresToOpen: 1, openMs: 50 });
    circuit.onOpen(() => opened++);
    await circuit.call(fail);
    await sleep(60);
    expect((await circuit.call(fail)).outcome).toBe('error');
    expect(circuit.isOpen()).toBe(true);
    expect(opened).toBe(2);
  });

  it('a timeout whose timer fired late (the process was busy) is no evidence against the store', async () => {
    const circuit = createCircuit({ timeoutMs: 10, failuresToOpen: 1, openMs: 10_000 });
    const call = circuit.call(hang);
    // Block the loop well past twice the bound: the timer fires late.
    const until = performance.now() + 40;
    while (performance.now() < until);
    expect((await call).outcome).toBe('timeout');
    expect(circuit.isOpen()).toBe(false);
    expect(circuit.degraded()).toBe(false);
  });
});

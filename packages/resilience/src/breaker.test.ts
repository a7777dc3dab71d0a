// createBreaker: opossum with its state gauge, request errors not counted.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { type BreakerState, createBreaker } from './breaker.ts';

const gaugeValue = async (registry: Registry, name: string, labels: Record<string, string> = {}) => {
  const values = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value;
};

class Refused extends Error {}

describe('createBreaker', () => {
  it('opens on failures, reports its state on the shared gauge per label set, and recovers half-open', async () => {
    const registry = new Registry();
    let healthy = false;
    const states: BreakerState[] = [];
    const options = {
      action: async (value: number) => {
        if (!healthy) throw new Error('down');
        return value * 2;
      },
      volumeThreshold: 2,
      resetTimeout: 100,
      onStateChange: (state: BreakerState) => states.push(state),
    };
    const metric = { registry, name: 'test_breaker_state', help: 'state' };
    const a = createBreaker('a', { ...options, metric: { ...metric, labels: { target: 'a' } } });
    const b = createBreaker('b', { ...options, metric: { ...metric, labels: { target: 'b' } } });
    expect(await gaugeValue(registry, 'test_breaker_state', { target: 'a' })).toBe(0);
    for (let i = 0; i < 2; i++) await expect(a.fire(1)).rejects.toThrow('down');
    expect(a.opened).toBe(true);
    expect(await gaugeValue(registry, 'test_breaker_state', { target: 'a' })).toBe(2);
    expect(await gaugeValue(registry, 'test_breaker_state', { target: 'b' })).toBe(0);
    await expect(a.fire(1)).rejects.toMatchObject({ code: 'EOPENBREAKER' });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await gaugeValue(registry, 'test_breaker_state', { target: 'a' })).toBe(1);
    healthy = true;
    expect(await a.fire(21)).toBe(42);
    expect(await gaugeValue(registry, 'test_breaker_state', { target: 'a' })).toBe(0);
    expect(states).toEqual(['open', 'half_open', 'closed']);
    a.shutdown();
    b.shutdown();
  });

  it('does not count request errors, and works without a metric', async () => {
    const breaker = createBreaker('refusing', {
      action: async () => {
        throw new Refused('no');
      },
      volumeThreshold: 2,
      isRequestError: (error) => error instanceof Refused,
    });
    for (let i = 0; i < 5; i++) await expect(breaker.fire()).rejects.toBeInstanceOf(Refused);
    expect(breaker.opened).toBe(false);
    breaker.shutdown();
  });

  it('an unlabelled gauge serves one breaker', async () => {
    const registry = new Registry();
    const breaker = createBreaker('webhook', {
      action: async () => {
        throw new Error('down');
      },
      volumeThreshold: 1,
      metric: { registry, name: 'test_webhook_breaker_state', help: 'state' },
    });
    await expect(breaker.fire()).rejects.toThrow('down');
    expect(await gaugeValue(registry, 'test_webhook_breaker_state')).toBe(2);
    breaker.shutdown();
  });
});

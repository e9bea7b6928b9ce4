import { StepCounts } from './step-counts.js';

describe('StepCounts', () => {
  it('counts a job in its step until its work settles, failed or not', async () => {
    const steps = new StepCounts();
    let finish!: () => void;
    const http = steps.during('http', new Promise<void>((r) => (finish = r)));
    const failing = steps.during('health write', Promise.reject(new Error('broker down')));
    expect(steps.describe()).toBe('http 1, health write 1');
    await expect(failing).rejects.toThrow('broker down');
    expect(steps.describe()).toBe('http 1');
    finish();
    await http;
    expect(steps.describe()).toBe('no step');
  });
});

import { HELD_BACK_REASONS } from '@app/contracts';
import { REASONS } from './delivery-policy.js';

describe('delivery policy reasons', () => {
  it('names every held-back reason the console leaves out of success rates', () => {
    const heldBack = [REASONS.rateLimited, REASONS.circuitOpen, REASONS.hostCircuitOpen, REASONS.endpointBusy, REASONS.orderedBehind];
    expect([...HELD_BACK_REASONS].sort()).toEqual([...heldBack].sort());
  });
});

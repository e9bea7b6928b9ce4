import type { Subscription } from '@app/contracts';

/** A subscription for fan-out tests: every event, standard format, to 127.0.0.1/<id>. */
export const sub = (id: string, extra: Partial<Subscription> = {}): Subscription => ({
  id,
  url: `http://127.0.0.1/${id}`,
  events: ['*'],
  kind: 'STANDARD',
  filters: {},
  secrets: [{ secret: 'whsec_x' }],
  headers: {},
  enabled: true,
  format: 'standard',
  createdAt: '',
  updatedAt: '',
  ...extra,
});

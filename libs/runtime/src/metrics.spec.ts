import { readFileSync } from 'node:fs';
import { GatewayMetrics, statusClass } from './metrics.js';

describe('GatewayMetrics', () => {
  it('names status classes', () => {
    expect([statusClass(204), statusClass(302), statusClass(503), statusClass(undefined)]).toEqual(['2xx', '3xx', '5xx', 'none']);
  });

  it('backs every query of the Grafana dashboard in docs/grafana with a metric it exports', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana/webhook-gateway.json', import.meta.url), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const metrics = new GatewayMetrics();
    const exported = new Set((await metrics.registry.getMetricsAsJSON()).map((m) => m.name));
    const used = dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/webhook_gateway_[a-z_]+/g) ?? []));
    expect(used.length).toBeGreaterThan(10);
    const missing = used.map((name) => name.replace(/_(bucket|sum|count)$/, '')).filter((base) => !exported.has(base));
    expect(missing).toEqual([]);
  });
});

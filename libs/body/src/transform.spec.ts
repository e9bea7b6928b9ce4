import { expressionProblem } from '@app/contracts';
import { readTransformResult, TransformError, withPath } from './transform.js';
import { TransformRunner } from './transform-runner.js';

const event = { id: 'e1', type: 'order.created', source: 'shop', time: '2026-12-03T10:00:00Z', data: { id: 42, total: 99.5, items: [{ sku: 'a' }, { sku: 'b' }] } };

describe('transformations', () => {
  const runner = new TransformRunner({ workers: 2, timeoutMs: 300, maxBytes: 10_000 });
  afterAll(() => runner.close());
  const run = async (expression: string, output: 'body' | 'request' = 'body') => readTransformResult(await runner.evaluate(expression, JSON.stringify(event)), output);

  it('refuses invalid JSONata at write, with the position', () => {
    expect(expressionProblem('{"a": data.id')).toMatch(/^is not valid JSONata: S\d+ at \d+: /);
    expect(expressionProblem('{"order": data.id, "skus": data.items.sku}')).toBeNull();
    expect(expressionProblem('x'.repeat(10_001))).toMatch(/at most 10000/);
  });

  it('maps the event to the body', async () => {
    const out = await run('{"order": data.id, "skus": data.items.sku, "kind": type}');
    expect(out).toEqual({ skip: false, body: JSON.stringify({ order: 42, skus: ['a', 'b'], kind: 'order.created' }), headers: {} });
  });

  it('with output "request" sets headers and the path, or skips', async () => {
    const out = await run('{"body": data, "headers": {"X-Order": $string(data.id)}, "path": "/orders/" & $string(data.id) & "?v=1"}', 'request');
    expect(out).toEqual({ skip: false, body: JSON.stringify(event.data), headers: { 'X-Order': '42' }, path: '/orders/42?v=1' });
    expect(await run('type = "order.created" ? {"skip": true} : {"body": data}', 'request')).toEqual({ skip: true });
    expect(withPath('https://h.example:8443/a/b?x=1', '/orders/42?v=1')).toBe('https://h.example:8443/orders/42?v=1');
  });

  it('says why a result cannot be sent', async () => {
    await expect(run('data.nothing')).rejects.toThrow(/returned nothing/);
    await expect(run('{"body": data, "colour": "red"}', 'request')).rejects.toThrow(/unknown fields colour/);
    await expect(run('{"body": data, "headers": {"content-type": "text/plain"}}', 'request')).rejects.toThrow(/set by the gateway/);
    await expect(run('{"body": data, "path": "//evil.example/x"}', 'request')).rejects.toThrow(/path must/);
    await expect(run('$error("no")')).rejects.toThrow(TransformError);
  });

  it('ends a runaway evaluation that yields (recursion, long loops) with JSONata guards', async () => {
    await expect(run('($f := function($x){ $f($x + 1) }; $f(0))')).rejects.toThrow(/D1011|D1012/);
    await expect(run('$count([1..9999999].($ * 2))')).rejects.toThrow(/D2015|D1012/);
  });

  it('stops a worker that does not yield and goes on with the next evaluation', async () => {
    // Catastrophic backtracking: one synchronous RegExp call that runs for minutes.
    const stuck = run('$match("' + 'a'.repeat(40) + '!", /^(a+)+$/)');
    const next = run('{"ok": data.id}');
    await expect(stuck).rejects.toThrow(/did not finish within 300 ms and was stopped/);
    await expect(next).resolves.toMatchObject({ body: '{"ok":42}' });
    await expect(run('{"again": data.id}')).resolves.toMatchObject({ body: '{"again":42}' });
  });

  it('refuses a result over the size limit', async () => {
    await expect(run('$pad("", 20000, "x")')).rejects.toThrow(/over the limit of 10000/);
  });
});

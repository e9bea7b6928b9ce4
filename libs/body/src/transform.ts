import { checkHeader, type GatewayEvent, type Transform } from '@app/contracts';

/** What a transformation made of an event: the request to send, or a skip. */
export type TransformedRequest = { skip: true } | { skip: false; body: string; headers: Record<string, string>; path?: string };

/** A transformation that failed for this event: a syntax error, a runtime error, a limit reached, a result of the wrong shape. */
export class TransformError extends Error {
  override readonly name = 'TransformError';
}

/**
 * The event as an expression sees it (`$`): the normalised event's attributes, without the
 * gateway's own bookkeeping (trace context, callback target, wire form).
 */
export function transformInput(event: GatewayEvent): Record<string, unknown> {
  const { traceparent: _t, callbackUrl: _c, cloudevent: _ce, ...visible } = event;
  return visible;
}

const REQUEST_KEYS = new Set(['body', 'headers', 'path', 'skip']);

/**
 * The request a transformation's result stands for. `resultJson` is the result as JSON, or
 * undefined when the expression returned nothing. `body` output: the result is the body.
 * `request` output: `{body, headers?, path?}` or `{skip: true}`.
 */
export function readTransformResult(resultJson: string | undefined, output: Transform['output']): TransformedRequest {
  if (resultJson === undefined) {
    throw new TransformError(
      output === 'body' ? 'the expression returned nothing (to skip events, use output "request" and return {"skip": true})' : 'the expression returned nothing: return {"body": …} or {"skip": true}',
    );
  }
  if (output === 'body') return { skip: false, body: resultJson, headers: {} };
  const result = JSON.parse(resultJson) as unknown;
  if (result === null || typeof result !== 'object' || Array.isArray(result)) throw new TransformError('with output "request" the result must be an object {body, headers?, path?, skip?}');
  const request = result as Record<string, unknown>;
  const unknown = Object.keys(request).filter((k) => !REQUEST_KEYS.has(k));
  if (unknown.length > 0) throw new TransformError(`the result has unknown fields ${unknown.join(', ')} (body, headers, path, skip)`);
  if (request.skip !== undefined && typeof request.skip !== 'boolean') throw new TransformError('skip must be true or false');
  if (request.skip === true) return { skip: true };
  if (request.body === undefined) throw new TransformError('the result has no body (and skip is not true)');
  const headers: Record<string, string> = {};
  if (request.headers !== undefined) {
    if (request.headers === null || typeof request.headers !== 'object' || Array.isArray(request.headers)) throw new TransformError('headers must be an object of strings');
    for (const [name, value] of Object.entries(request.headers)) {
      const problem = checkHeader(name, value);
      if (problem) throw new TransformError(`headers ${problem}`);
      headers[name] = value as string;
    }
  }
  let path: string | undefined;
  if (request.path !== undefined) {
    if (typeof request.path !== 'string' || !request.path.startsWith('/') || request.path.startsWith('//') || request.path.length > 2048 || /[\s#]/.test(request.path))
      throw new TransformError('path must be a string that starts with one "/", without spaces or "#", of at most 2048 characters');
    path = request.path;
  }
  return { skip: false, body: JSON.stringify(request.body), headers, ...(path !== undefined && { path }) };
}

/** The URL a transformed request goes to: the subscription URL's origin with the transformation's path and query. */
export function withPath(url: string, path: string | undefined): string {
  if (path === undefined) return url;
  return new URL(url).origin + path;
}

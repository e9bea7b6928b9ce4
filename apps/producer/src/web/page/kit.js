// What the gateway's pages (the delivery console, the customer portal) share: a browser ES module
// served at /web/kit.js, imported by each page's script (no build step, no framework).

/** An element with text content (never HTML: every value shown comes from outside). */
export function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-')) node.setAttribute(k, v);
    else node[k] = v;
  }
  return node;
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * One management API call with `token` as the bearer: the answer's JSON, or an ApiError with the
 * API's message (a 400's names the field). `onUnauthorized` runs first on a 401.
 */
export async function callApi(token, method, path, body, onUnauthorized) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  const message = Array.isArray(data?.message) ? data.message.join('; ') : (data?.message ?? res.statusText);
  if (res.status === 401) onUnauthorized(message);
  if (!res.ok) throw new ApiError(res.status, message);
  return data;
}

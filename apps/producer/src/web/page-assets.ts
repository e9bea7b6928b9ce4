import { readFileSync } from 'node:fs';

/** A file of a page, in `./page/` beside the controller's module `moduleUrl` (nest build copies them into dist: nest-cli.json assets). */
export const pageFile = (moduleUrl: string, name: string): string => readFileSync(new URL(`./page/${name}`, moduleUrl), 'utf8');

/**
 * The Content-Security-Policy of the gateway's pages: everything they load comes from this app
 * (no inline script or style, no other origin), and only `frameAncestors` may frame them
 * (none when empty). The sources were checked when the setting was read (`frameAncestors` parser).
 */
export function pageCsp(frameAncestors: readonly string[] = []): string {
  const ancestors = frameAncestors.length > 0 ? frameAncestors.join(' ') : "'none'";
  return `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors ${ancestors}; base-uri 'none'`;
}

import type { Locator } from 'playwright-core';

/** The Debian package's Chromium (.ci/run installs it); never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const WAIT_MS = 20_000;

/**
 * Waits until what `read` gives passes `check` (the page renders after its API calls answer),
 * then asserts it with jest, so a failure shows the last value read.
 */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, assert: (value: T) => void, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  assert(value);
}

const text = async (locator: Locator) => ((await locator.count()) === 0 ? undefined : ((await locator.first().textContent()) ?? '').trim());

/** Assertions on a page that wait for it, as playwright's own test runner has (playwright-core has none). */
export const page$ = {
  visible: (locator: Locator, timeoutMs = WAIT_MS) => locator.first().waitFor({ state: 'visible', timeout: timeoutMs }),
  hidden: (locator: Locator) => locator.first().waitFor({ state: 'hidden', timeout: WAIT_MS }),
  text: (locator: Locator, expected: string | RegExp) =>
    until(
      () => text(locator),
      (t) => (typeof expected === 'string' ? t === expected : t !== undefined && expected.test(t)),
      (t) => (typeof expected === 'string' ? expect(t).toBe(expected) : expect(t).toMatch(expected)),
    ),
  contains: (locator: Locator, part: string) =>
    until(
      () => text(locator),
      (t) => t?.includes(part) === true,
      (t) => expect(t).toContain(part),
    ),
  /** Until its text is no longer `placeholder` (e.g. Loading…). */
  settled: (locator: Locator, placeholder: string) =>
    until(
      () => text(locator),
      (t) => t !== undefined && t !== placeholder,
      (t) => expect(t).not.toBe(placeholder),
    ),
  lacks: async (locator: Locator, part: string) => expect((await text(locator)) ?? '').not.toContain(part),
  count: (locator: Locator, n: number) =>
    until(
      () => locator.count(),
      (c) => c === n,
      (c) => expect(c).toBe(n),
    ),
  focused: (locator: Locator) =>
    until(
      () => locator.evaluate((el) => el === el.ownerDocument.activeElement),
      (f) => f,
      (f) => expect(f).toBe(true),
    ),
};

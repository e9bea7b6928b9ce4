import { pageCsp } from './page-assets.js';

describe('pageCsp', () => {
  it('loads everything from the app only, and is never framed without an allowlist', () => {
    const csp = pageCsp();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
  });

  it('lets the listed origins frame the page', () => {
    expect(pageCsp(['https://app.example.com', "'self'"])).toContain("frame-ancestors https://app.example.com 'self';");
  });
});

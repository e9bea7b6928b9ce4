import { loadConfig } from '@app/config';
import { ConsoleController } from './console/console.controller.js';
import { ConsolePageController } from './console/console-page.controller.js';
import { ResultsDigestService } from './console/results-digest.service.js';
import { PortalPageController } from './portal/portal-page.controller.js';
import { ProducerModule } from './producer.module.js';

describe('ProducerModule', () => {
  const config = (env: Record<string, string>) => loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32), ...env });

  it('serves the delivery console and the customer portal by default', () => {
    const module = ProducerModule.forRoot(config({}));
    expect(module.controllers).toEqual(expect.arrayContaining([ConsoleController, ConsolePageController, PortalPageController]));
    expect(module.providers).toContain(ResultsDigestService);
  });

  it('with CONSOLE_ENABLED=false, serves the customer portal and the console API it reads, not the console page', () => {
    const module = ProducerModule.forRoot(config({ CONSOLE_ENABLED: 'false' }));
    expect(module.controllers).toEqual(expect.arrayContaining([ConsoleController, PortalPageController]));
    expect(module.controllers).not.toContain(ConsolePageController);
    expect(module.providers).toContain(ResultsDigestService);
  });

  it('leaves the console, the portal, their API and the digest out with CONSOLE_ENABLED=false and PORTAL_ENABLED=false', () => {
    const module = ProducerModule.forRoot(config({ CONSOLE_ENABLED: 'false', PORTAL_ENABLED: 'false' }));
    for (const controller of [ConsoleController, ConsolePageController, PortalPageController]) expect(module.controllers).not.toContain(controller);
    expect(module.providers).not.toContain(ResultsDigestService);
  });
});

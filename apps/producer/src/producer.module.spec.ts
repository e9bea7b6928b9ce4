import { loadConfig } from '@app/config';
import { ConsoleController } from './console/console.controller.js';
import { ConsolePageController } from './console/console-page.controller.js';
import { ResultsDigestService } from './console/results-digest.service.js';
import { ProducerModule } from './producer.module.js';

describe('ProducerModule', () => {
  const config = (env: Record<string, string>) => loadConfig({ API_TOKENS: 't', SECRETS_KEY: 'ab'.repeat(32), ...env });

  it('serves the delivery console by default', () => {
    const module = ProducerModule.forRoot(config({}));
    expect(module.controllers).toEqual(expect.arrayContaining([ConsoleController, ConsolePageController]));
    expect(module.providers).toContain(ResultsDigestService);
  });

  it('leaves the console, its API and the digest out with CONSOLE_ENABLED=false', () => {
    const module = ProducerModule.forRoot(config({ CONSOLE_ENABLED: 'false' }));
    expect(module.controllers).not.toContain(ConsoleController);
    expect(module.controllers).not.toContain(ConsolePageController);
    expect(module.providers).not.toContain(ResultsDigestService);
  });
});

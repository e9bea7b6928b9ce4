import { DynamicModule, Module, type Type } from '@nestjs/common';
import { Transformer } from '@app/body';
import { ConfigModule, type GatewayConfig, resultsDigestEnabled } from '@app/config';
import { KafkaModule } from '@app/kafka';
import { gatewayTopicSpecs, sourceTopicSpecs } from '@app/topology';
import { RuntimeModule } from '@app/runtime';
import { SubscriptionsModule } from '@app/subscriptions';
import { ConsoleController } from './console/console.controller.js';
import { ConsolePageController } from './console/console-page.controller.js';
import { ResultsDigestService } from './console/results-digest.service.js';
import { AttemptJobsService } from './console/attempt-jobs.service.js';
import { DlqController } from './dlq/dlq.controller.js';
import { DlqReplayService } from './dlq/dlq-replay.service.js';
import { EventTypesController } from './event-types/event-types.controller.js';
import { EventTypesService } from './event-types/event-types.service.js';
import { FanOutService } from './fan-out/fan-out.service.js';
import { SourceEventsController } from './fan-out/source-events.controller.js';
import { SourceDecoder } from './ingest/source-decoder.service.js';
import { PortalPageController } from './portal/portal-page.controller.js';
import { PortalSessionsController } from './portal/portal-sessions.controller.js';
import { PortalSessionsService } from './portal/portal-sessions.service.js';
import { PageKitController } from './web/page-kit.controller.js';
import { SubscriptionsController } from './subscriptions/subscriptions.controller.js';
import { SubscriptionsService } from './subscriptions/subscriptions.service.js';

/** The producer app: source events → delivery jobs, and the management API. */
@Module({})
export class ProducerModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    // The console API and the results digest behind it serve the delivery console (CONSOLE_ENABLED) and the customer portal (PORTAL_ENABLED).
    const pages: Type[] = [...(config.console.enabled ? [ConsolePageController] : []), ...(config.portal.enabled ? [PortalPageController] : [])];
    if (pages.length > 0) pages.push(PageKitController);
    const console = resultsDigestEnabled(config)
      ? { controllers: [ConsoleController, ...pages], providers: [ResultsDigestService, AttemptJobsService] }
      : { controllers: [], providers: [] };
    return {
      module: ProducerModule,
      imports: [
        ConfigModule.forRoot(config),
        KafkaModule.forRoot({ clientName: 'producer', topics: (c) => [...gatewayTopicSpecs(c), ...sourceTopicSpecs(c)] }),
        RuntimeModule,
        SubscriptionsModule,
      ],
      controllers: [SubscriptionsController, DlqController, SourceEventsController, EventTypesController, PortalSessionsController, ...console.controllers],
      providers: [SubscriptionsService, FanOutService, SourceDecoder, DlqReplayService, EventTypesService, PortalSessionsService, Transformer, ...console.providers],
    };
  }
}

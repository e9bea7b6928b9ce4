import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadConfig } from './config.js';
import { GATEWAY_CONFIG, GATEWAY_TOPICS } from './config.constants.js';
import type { GatewayConfig } from './config.schema.js';
import { gatewayTopics } from './topics.js';

/** Provides the validated GatewayConfig under GATEWAY_CONFIG and the topic names under GATEWAY_TOPICS. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: GATEWAY_CONFIG, useFactory: () => config ?? loadConfig() },
        { provide: GATEWAY_TOPICS, inject: [GATEWAY_CONFIG], useFactory: (loaded: GatewayConfig) => gatewayTopics(loaded) },
      ],
      exports: [GATEWAY_CONFIG, GATEWAY_TOPICS],
    };
  }
}

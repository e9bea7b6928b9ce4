import { DynamicModule, Global, Module } from '@nestjs/common';
import { loadConfig } from './config.js';
import { GATEWAY_CONFIG } from './config.constants.js';
import type { GatewayConfig } from './config.schema.js';

/** Provides the validated GatewayConfig under GATEWAY_CONFIG. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config?: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: GATEWAY_CONFIG, useFactory: () => config ?? loadConfig() }],
      exports: [GATEWAY_CONFIG],
    };
  }
}

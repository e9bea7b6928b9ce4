import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { GatewayMetrics, MetricsController } from './metrics.js';
import { Readiness } from './readiness.js';

/** Probes, readiness checks and Prometheus metrics, for both apps. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [Readiness, GatewayMetrics],
  exports: [Readiness, GatewayMetrics],
})
export class RuntimeModule {}

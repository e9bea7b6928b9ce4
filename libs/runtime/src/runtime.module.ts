import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { GatewayMetrics, MetricsController } from './metrics.js';
import { Readiness } from './readiness.js';
import { HopLog } from './hop-log.js';
import { Tracing } from './tracing.js';

/** Probes, readiness checks, Prometheus metrics and tracing, for both apps. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [Readiness, GatewayMetrics, Tracing, HopLog],
  exports: [Readiness, GatewayMetrics, Tracing, HopLog],
})
export class RuntimeModule {}

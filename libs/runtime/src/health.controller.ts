import { Controller, Get } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, type HealthCheckResult, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Readiness } from './readiness.js';

/**
 * Unauthenticated probes (@nestjs/terminus): /healthz, the process answers;
 * /readyz, it can do its work (503 with each failing check otherwise).
 */
@ApiExcludeController()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  @Get('healthz')
  @HealthCheck()
  live(): Promise<HealthCheckResult> {
    return this.health.check([() => this.indicators.check('process').up({ pid: process.pid, uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('readyz')
  @HealthCheck()
  ready(): Promise<HealthCheckResult> {
    return this.health.check(
      this.readiness.verdicts().map(([name, problem]) => () => {
        const indicator = this.indicators.check(name);
        if (problem !== undefined) return indicator.down({ reason: problem });
        const note = this.readiness.note(name);
        return note === undefined ? indicator.up() : indicator.up({ note });
      }),
    );
  }
}

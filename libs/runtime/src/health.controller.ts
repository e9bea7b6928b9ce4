import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { Readiness } from './readiness.js';

/** Unauthenticated probes: /healthz (the process answers) and /readyz (it can do its work). */
@Controller()
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  ready(): { status: 'ready' } {
    const problems = this.readiness.problems();
    if (problems.length > 0) throw new ServiceUnavailableException({ status: 'not ready', problems });
    return { status: 'ready' };
  }
}

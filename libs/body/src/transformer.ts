import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '@app/config';
import type { Transform } from '@app/contracts';
import { readTransformResult, type TransformedRequest } from './transform.js';
import { TransformRunner } from './transform-runner.js';

/**
 * A subscription's transformation applied to an event (as JSON): the request it makes, or a
 * TransformError saying why not. One per app; its workers start at the first evaluation.
 */
@Injectable()
export class Transformer implements OnApplicationShutdown {
  private readonly runner: TransformRunner;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    this.runner = new TransformRunner({ workers: config.transform.workers, timeoutMs: config.transform.timeoutMs, maxBytes: config.delivery.maxBodyBytes });
  }

  async apply(transform: Transform, eventJson: string): Promise<TransformedRequest> {
    const json = await this.runner.evaluate(transform.expression, eventJson);
    return readTransformResult(json, transform.output);
  }

  /** Evaluations queued and running (for the delivery watchdog). */
  describe(): { queued: number; running: number } {
    return this.runner.describe();
  }

  onApplicationShutdown(): Promise<void> {
    return this.runner.close();
  }
}



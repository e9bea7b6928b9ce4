import { Injectable } from '@nestjs/common';

/** What /readyz reports: set by the app's start-up once its consumers run. */
@Injectable()
export class Readiness {
  private consuming = false;

  markConsuming(value: boolean): void {
    this.consuming = value;
  }

  /** Reasons the app is not ready; empty when it is. */
  problems(): string[] {
    return this.consuming ? [] : ['kafka consumers are not running'];
  }
}

import { Injectable } from '@nestjs/common';

/** What /readyz reports: set by the app's start-up once its consumers run. */
@Injectable()
export class Readiness {
  private consuming = false;
  private readonly checks: (() => string | null)[] = [];

  markConsuming(value: boolean): void {
    this.consuming = value;
  }

  /** Adds a check that returns why the app is not ready, or null. */
  addCheck(check: () => string | null): void {
    this.checks.push(check);
  }

  /** Reasons the app is not ready; empty when it is. */
  problems(): string[] {
    const problems = this.checks.map((c) => c()).filter((p): p is string => p !== null);
    if (!this.consuming) problems.push('kafka consumers are not running');
    return problems;
  }
}

import { ConflictException, Controller, Get, HttpCode, NotFoundException, Param, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AttemptDetailView, AttemptPage, type AttemptResult, AttemptsQueryDto, ConsoleSubscriptionsView, ListSubscriptionsQueryDto, RetryAttemptView } from '@app/contracts';
import { SubscriptionRegistry } from '@app/subscriptions';
import { ApiCaller, ApiTokenGuard, type Caller, canSee } from '../subscriptions/api-token.guard.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import { ResultsDigestService } from './results-digest.service.js';
import { attemptRequest, JOB_NOTES, retryRefusal } from './attempt-detail.js';
import { AttemptJobsService } from './attempt-jobs.service.js';

/** The delivery console's API: subscriptions with their delivery health, and recent attempts. */
@ApiTags('console')
@ApiBearerAuth()
@Controller('v1')
@UseGuards(ApiTokenGuard)
export class ConsoleController {
  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly subscriptions: SubscriptionsService,
    private readonly digest: ResultsDigestService,
    private readonly jobs: AttemptJobsService,
  ) {}

  @Get('console/subscriptions')
  @ApiOkResponse({ type: ConsoleSubscriptionsView })
  async list(@Query() query: ListSubscriptionsQueryDto, @ApiCaller() caller: Caller): Promise<ConsoleSubscriptionsView> {
    const { caughtUp } = await this.digest.current();
    const page = this.subscriptions.list(query, caller);
    return { ...page, data: page.data.map((view) => ({ ...view, health: this.digest.health(view.id) })), digest: { caught_up: caughtUp } };
  }

  @Get('subscriptions/:id/attempts')
  @ApiOkResponse({ type: AttemptPage })
  @ApiNotFoundResponse({ description: 'Neither a subscription nor a subscription with recorded attempts' })
  async attempts(@Param('id') id: string, @Query() query: AttemptsQueryDto, @ApiCaller() caller: Caller): Promise<AttemptPage> {
    await this.visible(id, caller);
    return { data: this.digest.attempts(id, query.limit) };
  }

  @Get('subscriptions/:id/attempts/:delivery_id')
  @ApiOkResponse({ type: AttemptDetailView, description: 'One recent attempt and its request body as sent (from the job record, or recorded by the attempt)' })
  @ApiNotFoundResponse({ description: 'Not a subscription the caller sees, or not one of its recent attempts' })
  async attempt(@Param('id') id: string, @Param('delivery_id') deliveryId: string, @ApiCaller() caller: Caller): Promise<AttemptDetailView> {
    const attempt = await this.recentAttempt(id, deliveryId, caller);
    return { attempt, request: await attemptRequest(attempt, () => this.jobs.lookup(attempt)) };
  }

  /** "Retry now": the failed attempt's job sent again at once (same webhook-id); the retry already scheduled stays. */
  @Post('subscriptions/:id/attempts/:delivery_id/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RetryAttemptView })
  @ApiConflictResponse({ description: 'Not a failed attempt (delivered, skipped, held back, dead-lettered: replay the dead letter instead), or its job record is gone' })
  @ApiForbiddenResponse({ description: 'A read-only portal session' })
  @ApiNotFoundResponse({ description: 'Not a subscription the caller sees, or not one of its recent attempts' })
  async retry(@Param('id') id: string, @Param('delivery_id') deliveryId: string, @ApiCaller() caller: Caller): Promise<RetryAttemptView> {
    const attempt = await this.recentAttempt(id, deliveryId, caller);
    const refusal = retryRefusal(attempt, this.digest.attempts(id).filter((a) => a.webhookId === attempt.webhookId));
    if (refusal) throw new ConflictException(refusal);
    const found = await this.jobs.lookup(attempt);
    if (found.kind !== 'found') throw new ConflictException(`cannot retry: ${JOB_NOTES[found.kind]}`);
    return this.jobs.retryNow(attempt, found.job);
  }

  /** 404 unless the caller may see the subscription's attempts (a tenant token: its tenant's current subscriptions only). */
  private async visible(id: string, caller: Caller): Promise<void> {
    await this.digest.current();
    const sub = this.registry.get(id);
    const visible = sub ? canSee(caller, sub) : caller.tenant === undefined && this.digest.known(id);
    if (!visible) throw new NotFoundException(`subscription ${id} not found`);
  }

  private async recentAttempt(id: string, deliveryId: string, caller: Caller): Promise<AttemptResult> {
    await this.visible(id, caller);
    const attempt = this.digest.attempts(id).find((a) => a.deliveryId === deliveryId);
    if (!attempt) throw new NotFoundException(`attempt ${deliveryId} is not among subscription ${id}'s recent attempts`);
    return attempt;
  }
}

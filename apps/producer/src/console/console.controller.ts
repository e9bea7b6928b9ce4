import { Controller, Get, NotFoundException, Param, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AttemptPage, AttemptsQueryDto, ConsoleSubscriptionsView, ListSubscriptionsQueryDto } from '@app/contracts';
import { SubscriptionRegistry } from '@app/subscriptions';
import { ApiCaller, ApiTokenGuard, type Caller, canSee } from '../subscriptions/api-token.guard.js';
import { SubscriptionsService } from '../subscriptions/subscriptions.service.js';
import { ResultsDigestService } from './results-digest.service.js';

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
    await this.digest.current();
    const sub = this.registry.get(id);
    // A tenant token sees attempts of its tenant's current subscriptions only.
    const visible = sub ? canSee(caller, sub) : caller.tenant === undefined && this.digest.known(id);
    if (!visible) throw new NotFoundException(`subscription ${id} not found`);
    return { data: this.digest.attempts(id, query.limit) };
  }
}

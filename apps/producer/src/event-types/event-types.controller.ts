import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { EventTypePage, ListEventTypesQueryDto } from '@app/contracts';
import { ApiCaller, ApiTokenGuard, type Caller } from '../subscriptions/api-token.guard.js';
import { EventTypesService } from './event-types.service.js';

@ApiTags('event-types')
@ApiBearerAuth()
@Controller('v1/event-types')
@UseGuards(ApiTokenGuard)
export class EventTypesController {
  constructor(private readonly eventTypes: EventTypesService) {}

  /** A tenant token sees the types of its own tenant's events only; an operator token every type. */
  @Get()
  @ApiOkResponse({ type: EventTypePage, description: 'The event types the gateway has seen, by type, each with its latest sample' })
  list(@Query() query: ListEventTypesQueryDto, @ApiCaller() caller: Caller): Promise<EventTypePage> {
    return this.eventTypes.list(caller.tenant, query.limit);
  }
}

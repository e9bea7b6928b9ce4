import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CreateSubscriptionDto, type SubscriptionView } from '@app/contracts';
import { ApiTokenGuard } from './api-token.guard.js';
import { SubscriptionsService } from './subscriptions.service.js';

@Controller('v1/subscriptions')
@UseGuards(ApiTokenGuard)
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  create(@Body() dto: CreateSubscriptionDto): Promise<SubscriptionView & { secret: string }> {
    return this.subscriptions.create(dto);
  }

  @Get()
  list(): { data: SubscriptionView[] } {
    return { data: this.subscriptions.list() };
  }

  @Get(':id')
  get(@Param('id') id: string): SubscriptionView {
    return this.subscriptions.get(id);
  }

  @Delete(':id')
  @HttpCode(204)
  delete(@Param('id') id: string): Promise<void> {
    return this.subscriptions.delete(id);
  }
}

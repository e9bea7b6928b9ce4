import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiAcceptedResponse, ApiTags } from '@nestjs/swagger';
import {
  CreatedSubscriptionView,
  CreateSubscriptionDto,
  ListSubscriptionsQueryDto,
  RotatedSecretView,
  RotateSecretDto,
  SubscriptionPage,
  SubscriptionView,
  TestDeliveryView,
  UpdateSubscriptionDto,
} from '@app/contracts';
import { ApiTokenGuard } from './api-token.guard.js';
import { SubscriptionsService } from './subscriptions.service.js';

@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscriptions')
@UseGuards(ApiTokenGuard)
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedSubscriptionView })
  create(@Body() dto: CreateSubscriptionDto): Promise<CreatedSubscriptionView> {
    return this.subscriptions.create(dto);
  }

  @Get()
  @ApiOkResponse({ type: SubscriptionPage })
  list(@Query() query: ListSubscriptionsQueryDto): SubscriptionPage {
    return this.subscriptions.list(query);
  }

  @Get(':id')
  @ApiOkResponse({ type: SubscriptionView })
  get(@Param('id') id: string): SubscriptionView {
    return this.subscriptions.get(id);
  }

  @Patch(':id')
  @ApiOkResponse({ type: SubscriptionView })
  update(@Param('id') id: string, @Body() dto: UpdateSubscriptionDto): Promise<SubscriptionView> {
    return this.subscriptions.update(id, dto);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  delete(@Param('id') id: string): Promise<void> {
    return this.subscriptions.delete(id);
  }

  @Post(':id/secret/rotate')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedSecretView })
  rotate(@Param('id') id: string, @Body() dto: RotateSecretDto): Promise<RotatedSecretView> {
    return this.subscriptions.rotateSecret(id, dto);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: TestDeliveryView })
  test(@Param('id') id: string): Promise<TestDeliveryView> {
    return this.subscriptions.sendTest(id);
  }
}

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
  TransformTestDto,
  TransformTestView,
  UpdateSubscriptionDto,
} from '@app/contracts';
import { ApiCaller, ApiTokenGuard, type Caller } from './api-token.guard.js';
import { SubscriptionsService } from './subscriptions.service.js';

@ApiTags('subscriptions')
@ApiBearerAuth()
@Controller('v1/subscriptions')
@UseGuards(ApiTokenGuard)
export class SubscriptionsController {
  constructor(private readonly subscriptions: SubscriptionsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedSubscriptionView })
  create(@Body() dto: CreateSubscriptionDto, @ApiCaller() caller: Caller): Promise<CreatedSubscriptionView> {
    return this.subscriptions.create(dto, caller);
  }

  @Get()
  @ApiOkResponse({ type: SubscriptionPage })
  list(@Query() query: ListSubscriptionsQueryDto, @ApiCaller() caller: Caller): SubscriptionPage {
    return this.subscriptions.list(query, caller);
  }

  @Get(':id')
  @ApiOkResponse({ type: SubscriptionView })
  get(@Param('id') id: string, @ApiCaller() caller: Caller): SubscriptionView {
    return this.subscriptions.get(id, caller);
  }

  @Patch(':id')
  @ApiOkResponse({ type: SubscriptionView })
  update(@Param('id') id: string, @Body() dto: UpdateSubscriptionDto, @ApiCaller() caller: Caller): Promise<SubscriptionView> {
    return this.subscriptions.update(id, dto, caller);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  delete(@Param('id') id: string, @ApiCaller() caller: Caller): Promise<void> {
    return this.subscriptions.delete(id, caller);
  }

  @Post(':id/secret/rotate')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedSecretView })
  rotate(@Param('id') id: string, @Body() dto: RotateSecretDto, @ApiCaller() caller: Caller): Promise<RotatedSecretView> {
    return this.subscriptions.rotateSecret(id, dto, caller);
  }

  @Post(':id/transform/test')
  @HttpCode(200)
  @ApiOkResponse({ type: TransformTestView, description: 'What the transformation makes of a sample event (nothing is sent or saved)' })
  testTransform(@Param('id') id: string, @Body() dto: TransformTestDto, @ApiCaller() caller: Caller): Promise<TransformTestView> {
    return this.subscriptions.testTransform(id, dto, caller);
  }

  @Post(':id/test')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: TestDeliveryView })
  test(@Param('id') id: string, @ApiCaller() caller: Caller): Promise<TestDeliveryView> {
    return this.subscriptions.sendTest(id, caller);
  }
}

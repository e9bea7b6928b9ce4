import { Body, Controller, Delete, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiTags } from '@nestjs/swagger';
import { CreatePortalSessionDto, PortalSessionView } from '@app/contracts';
import { ApiCaller, ApiTokenGuard, type Caller, operatorOnly } from '../subscriptions/api-token.guard.js';
import { PortalSessionsService } from './portal-sessions.service.js';

/** Customer-portal sessions: made and revoked by an operator token only. */
@ApiTags('portal')
@ApiBearerAuth()
@Controller('v1/portal/sessions')
@UseGuards(ApiTokenGuard)
export class PortalSessionsController {
  constructor(private readonly sessions: PortalSessionsService) {}

  @Post()
  @ApiCreatedResponse({ type: PortalSessionView })
  create(@Body() dto: CreatePortalSessionDto, @ApiCaller() caller: Caller): PortalSessionView {
    operatorOnly(caller);
    return this.sessions.create(dto);
  }

  /** Revokes the session on every producer instance; returns once this instance has read the revocation back. */
  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(@Param('id') id: string, @ApiCaller() caller: Caller): Promise<void> {
    operatorOnly(caller);
    await this.sessions.revoke(id);
  }
}

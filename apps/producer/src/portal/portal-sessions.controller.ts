import { Body, Controller, Delete, ForbiddenException, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiForbiddenResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreatePortalSessionDto, PortalSessionInfoView, PortalSessionView } from '@app/contracts';
import { ApiCaller, ApiTokenGuard, type Caller, operatorOnly } from '../subscriptions/api-token.guard.js';
import { PortalSessionsService } from './portal-sessions.service.js';

/** Customer-portal sessions: made and revoked by an operator token only; a session asks who it is. */
@ApiTags('portal')
@ApiBearerAuth()
@Controller('v1/portal')
@UseGuards(ApiTokenGuard)
export class PortalSessionsController {
  constructor(private readonly sessions: PortalSessionsService) {}

  @Post('sessions')
  @ApiCreatedResponse({ type: PortalSessionView })
  create(@Body() dto: CreatePortalSessionDto, @ApiCaller() caller: Caller): PortalSessionView {
    operatorOnly(caller);
    return this.sessions.create(dto);
  }

  /** Revokes the session on every producer instance; returns once this instance has read the revocation back. */
  @Delete('sessions/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async revoke(@Param('id') id: string, @ApiCaller() caller: Caller): Promise<void> {
    operatorOnly(caller);
    await this.sessions.revoke(id);
  }

  /** The portal session the caller is: who it acts for and when it expires (the page shows them). */
  @Get('session')
  @ApiOkResponse({ type: PortalSessionInfoView })
  @ApiForbiddenResponse({ description: 'Not a portal session token' })
  session(@ApiCaller() caller: Caller): PortalSessionInfoView {
    const session = caller.portalSession;
    if (!session || caller.tenant === undefined) throw new ForbiddenException('only a portal session has a session');
    return { id: session.id, tenant: caller.tenant, read_only: session.readOnly, expires_at: session.expiresAt };
  }
}

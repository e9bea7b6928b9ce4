import { Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ReplayDlqDto, ReplayDlqView } from '@app/contracts';
import { ApiCaller, ApiTokenGuard, type Caller, tenantOf } from '../subscriptions/api-token.guard.js';
import { DlqReplayService } from './dlq-replay.service.js';

@ApiTags('dlq')
@ApiBearerAuth()
@Controller('v1/dlq')
@UseGuards(ApiTokenGuard)
export class DlqController {
  constructor(private readonly replays: DlqReplayService) {}

  /** Delivers matching dead letters again (same webhook-id, fresh schedule); `dry_run` only counts. */
  @Post('replay')
  @HttpCode(200)
  @ApiOkResponse({ type: ReplayDlqView })
  replay(@Body() dto: ReplayDlqDto, @ApiCaller() caller: Caller): Promise<ReplayDlqView> {
    // A tenant token replays its own tenant's dead letters only.
    return this.replays.replay({ ...dto, tenant: tenantOf(caller, dto.tenant) });
  }
}

import { Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AnyKey, CurrentPrincipal } from '../../auth/src/principal';
import type { Principal } from '../../auth/src/principal';
import { DeadLetterListView, DeadLetterQueryDto, DeadLetterTargetQueryDto, ReplayedView } from './message.views';
import { MessagingApiService } from './messaging-api.service';

/** Failed messages (API.md). Admin keys see every connection's; a connection-scoped key only its own. */
@ApiTags('dead-letters')
@ApiBearerAuth()
@Controller('dead-letters')
export class DeadLettersController {
  constructor(private readonly api: MessagingApiService) {}

  @Get()
  @AnyKey()
  @ApiOkResponse({ type: DeadLetterListView })
  list(@Query() query: DeadLetterQueryDto, @CurrentPrincipal() principal: Principal): Promise<DeadLetterListView> {
    return this.api.deadLetters(principal, query);
  }

  @Post(':messageId/replay')
  @AnyKey()
  @HttpCode(202)
  @ApiAcceptedResponse({ type: ReplayedView })
  replay(@Param('messageId') messageId: string, @Query() query: DeadLetterTargetQueryDto, @CurrentPrincipal() principal: Principal): Promise<ReplayedView> {
    return this.api.replay(principal, messageId, query.sessionId);
  }

  @Delete(':messageId')
  @AnyKey()
  @HttpCode(204)
  @ApiNoContentResponse()
  discard(@Param('messageId') messageId: string, @Query() query: DeadLetterTargetQueryDto, @CurrentPrincipal() principal: Principal): Promise<void> {
    return this.api.discard(principal, messageId, query.sessionId);
  }
}

import { Controller, Get, Param, ParseUUIDPipe, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DataSource } from 'typeorm';
import { AdminOnly, ConnectionScoped } from '../../../auth/src/principal';
import { EventStreamQueryDto } from '../webhooks.dto';
import { WebhooksException } from '../webhooks.exception';
import { EventStreams } from './event-streams';

const ConnectionId = () => Param('id', new ParseUUIDPipe({ exceptionFactory: () => WebhooksException.sessionNotFound('(malformed id)') }));
const STREAM_DOC = { description: 'text/event-stream: `id: <event id>`, `event: <type>`, `data: <webhook body JSON>`; a comment every 15 s keeps it open' };

@ApiTags('events')
@ApiBearerAuth()
@Controller()
export class EventStreamsController {
  constructor(
    private readonly streams: EventStreams,
    private readonly dataSource: DataSource,
  ) {}

  @Get('connections/:id/events')
  @ConnectionScoped('id')
  @ApiProduces('text/event-stream')
  @ApiOkResponse(STREAM_DOC)
  async connectionEvents(@ConnectionId() id: string, @Query() query: EventStreamQueryDto, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    // Checked before the stream starts, so an unknown connection still gets a 404 problem document.
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM sessions WHERE id = $1 AND deleted_at IS NULL`, [id]);
    if (rows.length === 0) throw WebhooksException.sessionNotFound(id);
    this.streams.attach(request, reply, { sessionId: id, types: query.types });
  }

  @Get('events')
  @AdminOnly()
  @ApiProduces('text/event-stream')
  @ApiOkResponse(STREAM_DOC)
  allEvents(@Query() query: EventStreamQueryDto, @Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    this.streams.attach(request, reply, { types: query.types });
  }
}

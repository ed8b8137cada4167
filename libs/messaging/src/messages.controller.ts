import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiHeader, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ConnectionScoped } from '../../auth/src/principal';
import { MessagingException } from './messaging.exception';
import { MessageListQueryDto, MessageListView, MessageView } from './message.views';
import { MessagingApiService } from './messaging-api.service';
import { SendAcceptedView, SendMessageDto, SendQueryDto } from './send.dto';
import { SendBodyPipe, SendQueryPipe } from './send-body.pipe';
import { SendService } from './send.service';

/**
 * The send body as the handler receives it: a `SendMessageDto` made by
 * `SendBodyPipe`. Declared as a mapped type so that its design type is
 * `Object`, which the global validation pipe passes through untouched.
 */
type ValidatedSend = Readonly<SendMessageDto>;
/** The same for the query (`SendQueryPipe`). */
type ValidatedSendQuery = Readonly<SendQueryDto>;

/** An id that is not a uuid cannot name a connection: 404, like any unknown id. */
const ConnectionId = () => Param('id', new ParseUUIDPipe({ exceptionFactory: () => MessagingException.sessionNotFound('(malformed id)') }));

@ApiTags('messages')
@ApiBearerAuth()
@Controller('connections/:id')
export class MessagesController {
  constructor(
    private readonly sends: SendService,
    private readonly api: MessagingApiService,
  ) {}

  @Post('send')
  @ConnectionScoped()
  @ApiAcceptedResponse({ type: SendAcceptedView, description: 'Stored and queued' })
  @ApiOkResponse({ type: SendAcceptedView, description: 'A replay of an earlier request with this messageId (header idempotent-replayed: true), or ?wait=sent saw the outcome' })
  @ApiHeader({ name: 'idempotent-replayed', required: false, description: 'Response header: true when this is a replay' })
  @ApiBody({ type: SendMessageDto })
  @ApiQuery({ name: 'wait', required: false, enum: ['sent'], description: 'Hold the response until WhatsApp acknowledged the message (or a timeout)' })
  async send(@ConnectionId() id: string, @Body(SendBodyPipe) body: ValidatedSend, @Query(SendQueryPipe) query: ValidatedSendQuery, @Res() reply: FastifyReply): Promise<void> {
    const outcome = await this.sends.accept(id, body, { waitForSent: query.wait === 'sent' });
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    await reply.status(outcome.httpStatus).send(outcome.body);
  }

  @Get('messages')
  @ConnectionScoped()
  @ApiOkResponse({ type: MessageListView })
  list(@ConnectionId() id: string, @Query() query: MessageListQueryDto): Promise<MessageListView> {
    return this.api.list(id, query);
  }

  @Get('messages/:messageId')
  @ConnectionScoped()
  @ApiOkResponse({ type: MessageView })
  get(@ConnectionId() id: string, @Param('messageId') messageId: string): Promise<MessageView> {
    return this.api.get(id, messageId);
  }
}

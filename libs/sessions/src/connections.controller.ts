import { Body, Controller, Delete, Get, HttpCode, Optional, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly, AnyKey, ConnectionScoped, CurrentPrincipal } from '../../auth/src/principal';
import type { Principal } from '../../auth/src/principal';
import { decodeCursor } from '../../http/src/cursor';
import { ConnectionListView, ConnectionView, CreateConnectionDto, CreatedConnectionView, ListQueryDto, UpdateConnectionDto } from './connections.dto';
import { SessionsException } from './sessions.exception';
import { SessionsRepository } from './sessions.repository';
import { SessionCommands } from './commands/session-commands.service';
import { ConnectionWebhooks } from '../../webhooks/src/subscriptions/connection-webhooks';

/** An id that is not a uuid cannot name a connection: 404, like any unknown id. */
export const ConnectionId = (name = 'id') => Param(name, new ParseUUIDPipe({ exceptionFactory: () => SessionsException.notFound('(malformed id)') }));

@ApiTags('connections')
@ApiBearerAuth()
@Controller('connections')
export class ConnectionsController {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly commands: SessionCommands,
    @Optional() private readonly webhooks?: ConnectionWebhooks,
  ) {}

  @Post()
  @AdminOnly()
  @ApiCreatedResponse({ type: CreatedConnectionView })
  async create(@Body() body: CreateConnectionDto): Promise<CreatedConnectionView> {
    if (body.webhookUrl) await this.webhooks?.verifyUrl(body.webhookUrl);
    const session = await this.sessions.create({ label: body.label ?? null, webhookUrl: body.webhookUrl ?? null, config: { ...body.config } });
    await this.commands.issue(session.id, 'start');
    const webhook = body.webhookUrl ? await this.webhooks?.configure(session.id, body.webhookUrl) : undefined;
    return { sessionId: session.id, label: session.label, status: session.status, createdAt: session.createdAt.toISOString(), ...(webhook?.secret && { webhookSecret: webhook.secret }) };
  }

  @Get()
  @AnyKey()
  @ApiOkResponse({ type: ConnectionListView })
  async list(@Query() query: ListQueryDto, @CurrentPrincipal() principal: Principal): Promise<ConnectionListView> {
    // A scoped key lists only its own connection.
    const onlyId = principal.role === 'connection' ? principal.sessionId! : undefined;
    const page = await this.sessions.page(query.limit ?? 50, decodeCursor(query.cursor), onlyId);
    return { items: page.items.map(ConnectionView.of), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ConnectionScoped()
  @ApiOkResponse({ type: ConnectionView })
  async get(@ConnectionId() id: string): Promise<ConnectionView> {
    const session = await this.sessions.find(id);
    if (!session) throw SessionsException.notFound(id);
    return ConnectionView.of(session);
  }

  @Patch(':id')
  @ConnectionScoped()
  @ApiOkResponse({ type: ConnectionView })
  async update(@ConnectionId() id: string, @Body() body: UpdateConnectionDto): Promise<ConnectionView> {
    const current = await this.sessions.find(id);
    if (!current) throw SessionsException.notFound(id);
    // A new URL keeps the connection's signing secret; null removes the webhook.
    if (body.webhookUrl !== undefined) await this.webhooks?.configure(id, body.webhookUrl ?? null);
    const session = await this.sessions.update(id, {
      ...(body.label !== undefined && { label: body.label }),
      ...(body.webhookUrl !== undefined && { webhookUrl: body.webhookUrl }),
      ...(body.config !== undefined && { config: { ...current.config, ...body.config } }),
    });
    return ConnectionView.of(session!);
  }

  @Delete(':id')
  @AdminOnly()
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@ConnectionId() id: string): Promise<void> {
    if (!(await this.sessions.markDeleted(id))) throw SessionsException.notFound(id);
    await this.webhooks?.configure(id, null);
    // The owner unlinks the device and wipes the credentials; messages and events stay for audit.
    await this.commands.issue(id, 'delete');
  }
}

import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';
import { ApiKeyService } from './api-key.service';
import { ApiKeyListView, ApiKeyView, CreateApiKeyDto, CreatedApiKeyView } from './api-keys.dto';
import { AdminOnly } from './principal';
import { SessionLookup } from './session-lookup';

@ApiTags('api-keys')
@ApiBearerAuth()
@AdminOnly()
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    private readonly keys: ApiKeyService,
    private readonly sessions: SessionLookup,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedApiKeyView })
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyView> {
    if (body.role === 'admin' && body.sessionId) throw new ProblemException(400, ErrorCode.ValidationFailed, 'An admin key cannot be scoped to a connection', { errors: [{ field: 'sessionId', messages: ['must be omitted for role=admin'] }] });
    if (body.sessionId && !(await this.sessions.exists(body.sessionId))) throw new ProblemException(404, ErrorCode.SessionNotFound, `Connection ${body.sessionId} does not exist`);
    const { entity, key } = await this.keys.create({ name: body.name, role: body.role, sessionId: body.sessionId ?? null });
    return { ...ApiKeyView.of(entity), key };
  }

  @Get()
  @ApiOkResponse({ type: ApiKeyListView })
  async list(): Promise<ApiKeyListView> {
    return { items: (await this.keys.list()).map(ApiKeyView.of) };
  }

  @Delete(':keyId')
  @HttpCode(204)
  async revoke(@Param('keyId', new ParseUUIDPipe({ errorHttpStatusCode: 404 })) keyId: string): Promise<void> {
    await this.keys.revoke(keyId);
  }
}

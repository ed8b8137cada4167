import { Body, Controller, Get, Header, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { ConnectionScoped } from '../../auth/src/principal';
import { SessionCommands } from './commands/session-commands.service';
import { ConnectionId } from './connections.controller';
import { PairingCodeDto, PairingCodeView, QrView } from './connection-actions.dto';
import { SessionsException } from './sessions.exception';
import { SessionsRepository } from './sessions.repository';

const PAIRING_CODE_TIMEOUT_MS = 20_000;

@ApiTags('connections')
@ApiBearerAuth()
@ConnectionScoped()
@Controller('connections/:id')
export class ConnectionActionsController {
  constructor(
    private readonly sessions: SessionsRepository,
    private readonly commands: SessionCommands,
  ) {}

  @Get('qr')
  @ApiProduces('application/json', 'image/png', 'image/svg+xml')
  @ApiOkResponse({ type: QrView, description: 'JSON by default; a PNG or SVG image by Accept' })
  async qr(@ConnectionId() id: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<QrView | Buffer | string> {
    const qr = await this.sessions.currentQr(id);
    const accept = request.headers.accept ?? '';
    if (accept.includes('image/png')) {
      reply.header('content-type', 'image/png');
      return QRCode.toBuffer(qr.qr, { type: 'png', margin: 2, width: 320 });
    }
    if (accept.includes('image/svg+xml')) {
      reply.header('content-type', 'image/svg+xml');
      return QRCode.toString(qr.qr, { type: 'svg', margin: 2 });
    }
    return { qr: qr.qr, expiresAt: qr.expiresAt.toISOString() };
  }

  @Post('pairing-code')
  @HttpCode(200)
  @ApiOkResponse({ type: PairingCodeView })
  async pairingCode(@ConnectionId() id: string, @Body() body: PairingCodeDto): Promise<PairingCodeView> {
    await this.sessions.currentQr(id);
    const result = await this.commands.run(id, 'pairing-code', { phoneNumber: body.phoneNumber }, PAIRING_CODE_TIMEOUT_MS);
    return { code: String(result.code) };
  }

  @Post('logout')
  @HttpCode(202)
  @Header('content-type', 'application/json')
  @ApiAcceptedResponse({ description: 'The device is being unlinked; the status becomes logged_out' })
  async logout(@ConnectionId() id: string): Promise<{ accepted: true }> {
    if (!(await this.sessions.find(id))) throw SessionsException.notFound(id);
    await this.commands.issue(id, 'logout');
    return { accepted: true };
  }

  @Post('restart')
  @HttpCode(202)
  @ApiAcceptedResponse({ description: 'The socket restarts (or starts, for a stopped, failed or logged-out connection)' })
  async restart(@ConnectionId() id: string): Promise<{ accepted: true }> {
    await this.commands.restart(id);
    return { accepted: true };
  }
}

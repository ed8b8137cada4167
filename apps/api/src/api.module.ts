import { Module } from '@nestjs/common';
import { AuthModule } from '../../../libs/auth/src';
import { MessagingModule } from '../../../libs/messaging/src';

/** The REST API: produces jobs, never opens a WhatsApp socket. */
@Module({
  imports: [AuthModule.forRole({ withKeyManagement: true }), MessagingModule.forRole({ api: true })],
})
export class ApiModule {}

import { Module } from '@nestjs/common';
import { AuthModule } from '../../../libs/auth/src';
import { SessionsModule } from '../../../libs/sessions/src';

/** The REST API: produces jobs, never opens a WhatsApp socket. */
@Module({
  imports: [AuthModule.forRole({ withKeyManagement: true }), SessionsModule.forRole({ api: true })],
})
export class ApiModule {}

import { Module } from '@nestjs/common';
import { SessionsModule } from '../../../libs/sessions/src';

/** The worker: owns the WhatsApp sockets and the queue processors; serves only operations routes. */
@Module({
  imports: [SessionsModule.forRole({ api: false })],
})
export class WorkerModule {}

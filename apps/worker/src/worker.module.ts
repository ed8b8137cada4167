import { Module } from '@nestjs/common';
import { MessagingModule } from '../../../libs/messaging/src';

/** The worker: owns the WhatsApp sockets and the queue processors; serves only operations routes. */
@Module({
  imports: [MessagingModule.forRole({ worker: true })],
})
export class WorkerModule {}

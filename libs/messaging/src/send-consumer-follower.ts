import { Injectable } from '@nestjs/common';
import { SessionOwnershipListener } from '../../contracts/src';
import { MessagingWorker } from './messaging.worker';

/** A session's send queue is consumed where its socket is: the worker follows the session's lease. */
@Injectable()
export class SendConsumerFollower extends SessionOwnershipListener {
  constructor(private readonly worker: MessagingWorker) {
    super();
  }

  sessionAcquired(sessionId: string): Promise<void> {
    return this.worker.startSession(sessionId);
  }

  sessionReleased(sessionId: string): Promise<void> {
    return this.worker.stopSession(sessionId);
  }
}

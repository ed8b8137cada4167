import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { MessageEventSink, SessionOwnershipListener } from '../../contracts/src';
import { EventsModule } from '../../events/src/events.module';
import { DeadLettersController } from './dead-letters.controller';
import { MessageEvents } from './message-events';
import { MessagesController } from './messages.controller';
import { MessagesRepository } from './messages.repository';
import { MessagingApiService } from './messaging-api.service';
import { MessagingWorker } from './messaging.worker';
import { SendJobs } from './send-jobs';
import { SendReconciler } from './send-reconciler';
import { SendConsumerFollower } from './send-consumer-follower';
import { SendService } from './send.service';
import { SendWriter } from './send-writer';
import { SessionGatewayRef } from './session-gateway-ref';
import { StatusWriter } from './status-writer';
import { StoredMessageEventSink } from './stored-message-event-sink';

/**
 * The send pipeline and the message store. `api`: the send, message and
 * dead-letter routes. `worker`: the `MessageSend` handler with its
 * per-session consumers (`MessagingWorker`), the reconciler and the
 * `MessageEventSink` the session engine reports to. Needs `MessageQueue`
 * (QueueModule) and finds the `SessionGateway` bound by the sessions library.
 */
@Module({})
export class MessagingModule {
  static forRole({ api = false, worker = false }: { api?: boolean; worker?: boolean }): DynamicModule {
    const common: Provider[] = [MessagesRepository, SendJobs, MessageEvents];
    const apiProviders: Provider[] = api ? [SendService, SendWriter, MessagingApiService] : [];
    const workerProviders: Provider[] = worker
      ? [SessionGatewayRef, MessagingWorker, StatusWriter, SendReconciler, StoredMessageEventSink, { provide: MessageEventSink, useExisting: StoredMessageEventSink },
          SendConsumerFollower,
          { provide: SessionOwnershipListener, useExisting: SendConsumerFollower },
        ]
      : [];
    return {
      module: MessagingModule,
      // Global so the session runtime injects MessageEventSink and MessagingWorker without importing this library.
      global: worker,
      imports: [EventsModule],
      controllers: api ? [MessagesController, DeadLettersController] : [],
      providers: [...common, ...apiProviders, ...workerProviders],
      exports: worker ? [MessageEventSink, SessionOwnershipListener, MessagingWorker, SessionGatewayRef, SendReconciler, MessagesRepository] : [MessagesRepository],
    };
  }
}

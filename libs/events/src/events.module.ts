import { Global, Module } from '@nestjs/common';
import { EventBus } from './event-bus';
import { InProcessEventBus } from './in-process-event-bus';
import { RedisEventRelay } from './redis-event-relay';

@Global()
@Module({
  providers: [InProcessEventBus, { provide: EventBus, useExisting: InProcessEventBus }, RedisEventRelay],
  exports: [EventBus],
})
export class EventsModule {}

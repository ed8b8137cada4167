import { EventEmitter } from 'node:events';
import { Injectable, Logger } from '@nestjs/common';
import { DomainEvent } from './domain-event';
import { DurableEventSink, EventBus, EventListener } from './event-bus';

/** The embedded-mode bus: durable sinks, then listeners in this process. */
@Injectable()
export class InProcessEventBus extends EventBus {
  private readonly logger = new Logger('EventBus');
  private readonly emitter = new EventEmitter().setMaxListeners(0);
  private readonly sinks: DurableEventSink[] = [];
  private readonly relays: Array<(event: DomainEvent) => void> = [];

  addDurableSink(sink: DurableEventSink): void {
    this.sinks.push(sink);
  }

  async publish(event: DomainEvent): Promise<void> {
    for (const sink of this.sinks) await sink.accept(event);
    this.broadcastLocally(event);
    for (const relay of this.relays) relay(event);
  }

  /** A relay carries published events to listeners in other processes (see RedisEventRelay). */
  onPublished(relay: (event: DomainEvent) => void): void {
    this.relays.push(relay);
  }

  /** Also the entry point for events that arrive from other processes. */
  broadcastLocally(event: DomainEvent): void {
    for (const listener of this.emitter.listeners('event') as EventListener[]) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn(`event listener failed: ${(error as Error).message}`);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}

import { DomainEvent } from './domain-event';

export type EventListener = (event: DomainEvent) => void;

/**
 * Where an event must be recorded before publishing counts as done (the webhook
 * outbox). Sinks are awaited: when `publish` resolves, the event is durable.
 */
export abstract class DurableEventSink {
  abstract accept(event: DomainEvent): Promise<void>;
}

/**
 * The event bus. `publish` first hands the event to every durable sink, then
 * broadcasts it to live listeners (SSE streams) in this process and, in
 * distributed mode, in the others.
 */
export abstract class EventBus {
  abstract publish(event: DomainEvent): Promise<void>;
  /** Live events, best effort (a disconnected SSE client misses what happened meanwhile). Returns an unsubscribe function. */
  abstract subscribe(listener: EventListener): () => void;
  abstract addDurableSink(sink: DurableEventSink): void;
}

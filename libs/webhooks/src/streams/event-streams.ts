import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { DomainEvent, EventType } from '../../../events/src/domain-event';
import { EventBus } from '../../../events/src/event-bus';
import { deliveryBody } from '../delivery/event-outbox';

const HEARTBEAT_MS = 15_000;
/** A client this far behind is dropped rather than buffered without end. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface StreamFilter {
  sessionId?: string;
  types?: readonly EventType[];
}

/** One SSE frame: the event id, its type, and the same JSON body a webhook gets. */
export const sseFrame = (event: DomainEvent): string => `id: ${event.id.replace(/[\r\n]/g, '')}\nevent: ${event.type}\ndata: ${deliveryBody(event)}\n\n`;

/**
 * Live event streams (Server-Sent Events) on top of the bus's live listeners.
 * Best effort by nature: a client that is not connected misses what happens
 * meanwhile (webhooks are the durable path).
 */
@Injectable()
export class EventStreams implements BeforeApplicationShutdown {
  private readonly open = new Set<() => void>();

  constructor(private readonly bus: EventBus) {}

  /** Takes the response over from Fastify and streams until the client goes away or the app stops. */
  attach(request: FastifyRequest, reply: FastifyReply, filter: StreamFilter): void {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write(': stream open\n\n');
    const types = filter.types && filter.types.length > 0 ? new Set(filter.types) : null;
    const unsubscribe = this.bus.subscribe((event) => {
      if (filter.sessionId && event.sessionId !== filter.sessionId) return;
      if (types && !types.has(event.type)) return;
      raw.write(sseFrame(event));
      if (raw.writableLength > MAX_BUFFERED_BYTES) close();
    });
    const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const close = () => {
      if (!this.open.delete(close)) return;
      clearInterval(heartbeat);
      unsubscribe();
      if (!raw.writableEnded) raw.end();
    };
    this.open.add(close);
    request.raw.once('close', close);
    raw.once('close', close);
    raw.once('error', close);
  }

  /** Open streams would keep the HTTP server from closing. */
  beforeApplicationShutdown(): void {
    for (const close of [...this.open]) close();
  }
}

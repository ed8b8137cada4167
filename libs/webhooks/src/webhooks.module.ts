import { Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/src';
import { EventBus } from '../../events/src/event-bus';
import { JobHandlerRegistry, MessageQueue } from '../../queue/src';
import { DeliveriesService } from './delivery/deliveries.service';
import { DeliveryProcessor } from './delivery/delivery-processor';
import { DeliveryReconciler } from './delivery/delivery-reconciler';
import { DeliveryStore } from './delivery/delivery-store';
import { EventOutbox } from './delivery/event-outbox';
import { HostResolver, WebhookUrlGuard } from './guard/url-guard';
import { WEBHOOK_DELIVERY_QUEUE, WEBHOOK_FANOUT_QUEUE, WebhookJob } from './jobs';
import { EventStreams } from './streams/event-streams';
import { EventStreamsController } from './streams/event-streams.controller';
import { ConnectionWebhooks, SubscriptionConnectionWebhooks } from './subscriptions/connection-webhooks';
import { SubscriptionDirectory } from './subscriptions/subscription-directory';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import { WebhooksController } from './webhooks.controller';

/** Every process that publishes events records them for webhooks before `publish` resolves. */
@Injectable()
class OutboxRegistration implements OnModuleInit {
  constructor(
    private readonly bus: EventBus,
    private readonly outbox: EventOutbox,
  ) {}

  onModuleInit(): void {
    this.bus.addDurableSink(this.outbox);
  }
}

/** The worker half: job handlers at init, consumers once the app is up. */
@Injectable()
class DeliveryConsumers implements OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly registry: JobHandlerRegistry,
    private readonly queue: MessageQueue,
    private readonly outbox: EventOutbox,
    private readonly processor: DeliveryProcessor,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.registry.register(WebhookJob.Fanout, this.outbox.fanOutLegacyJob);
    this.registry.register(WebhookJob.FirstAttempts, this.processor.handleFirstAttempts);
    this.registry.register(WebhookJob.Delivery, this.processor.handle);
  }

  async onApplicationBootstrap(): Promise<void> {
    const { concurrency } = this.config.webhookDelivery;
    // Events are fanned out inside `publish`; this queue only drains fan-out jobs an earlier version left behind.
    await this.queue.consume(WEBHOOK_FANOUT_QUEUE, this.registry.dispatch, { concurrency: 1 });
    await this.queue.consume(WEBHOOK_DELIVERY_QUEUE, this.registry.dispatch, { concurrency });
  }
}

/**
 * Webhooks and live event streams. `api`: subscription management, delivery
 * listing/replay and SSE routes; `worker`: delivery consumers. Every role
 * fans its own events out as it publishes them.
 * Global so the connections API can reach `ConnectionWebhooks`.
 */
@Module({})
export class WebhooksModule {
  static forRole({ api, worker }: { api: boolean; worker: boolean }): DynamicModule {
    return {
      module: WebhooksModule,
      global: true,
      controllers: api ? [WebhooksController, EventStreamsController] : [],
      providers: [
        HostResolver,
        WebhookUrlGuard,
        SubscriptionDirectory,
        SubscriptionsService,
        DeliveryStore,
        DeliveriesService,
        EventOutbox,
        OutboxRegistration,
        { provide: ConnectionWebhooks, useClass: SubscriptionConnectionWebhooks },
        ...(api ? [EventStreams] : []),
        ...(worker ? [DeliveryProcessor, DeliveryReconciler, DeliveryConsumers] : []),
      ],
      exports: [ConnectionWebhooks, SubscriptionsService],
    };
  }
}

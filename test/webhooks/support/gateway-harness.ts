import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventBus, type DomainEvent, type EventType } from '../../../libs/events/src';
import { authHeaders, startGateway, type InProcessGateway } from '../../support/gateway';
import { waitFor } from '../../support/services';

/** Compressed Standard Webhooks schedule for tests: 7 attempts over ~3 s. */
export const TEST_SCHEDULE_MS = [0, 150, 250, 400, 600, 800, 1000];

export const WEBHOOK_TEST_ENV = {
  WEBHOOK_ALLOW_PRIVATE_HOSTS: '127.0.0.1,localhost',
  WEBHOOK_RETRY_SCHEDULE: TEST_SCHEDULE_MS.join(','),
  WEBHOOK_TIMEOUT_MS: '2000',
};

/** A gateway plus the calls webhook tests make on it. */
export class WebhookHarness {
  private readonly created: string[] = [];

  constructor(readonly gw: InProcessGateway) {}

  static async start(env: Record<string, string | undefined> = {}): Promise<WebhookHarness> {
    return new WebhookHarness(await startGateway({ ...WEBHOOK_TEST_ENV, ...env }));
  }

  get bus(): EventBus {
    return this.gw.app.get(EventBus);
  }

  get dataSource(): DataSource {
    return this.gw.app.get(DataSource);
  }

  async request(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any; headers: Headers }> {
    const response = await fetch(`${this.gw.url}${path}`, {
      method,
      headers: { ...authHeaders(key), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
  }

  /** A global subscription, removed again by `cleanup`. */
  async subscribe(url: string, extra: { events?: string[]; sessionId?: string } = {}): Promise<{ id: string; secret: string }> {
    const response = await this.request('POST', '/webhooks', { url, ...extra });
    if (response.status !== 201) throw new Error(`POST /webhooks answered ${response.status}: ${JSON.stringify(response.body)}`);
    this.created.push(response.body.id);
    return response.body;
  }

  async cleanup(): Promise<void> {
    for (const id of this.created.splice(0)) await this.request('DELETE', `/webhooks/${id}`);
  }

  event(overrides: Partial<DomainEvent> = {}, type: EventType = 'message.received'): DomainEvent {
    return {
      id: `${randomUUID()}:evt`,
      type,
      sessionId: randomUUID(),
      timestamp: new Date().toISOString(),
      payload: { messageId: randomUUID(), from: '5511999999999@s.whatsapp.net', body: 'Olá' },
      ...overrides,
    };
  }

  async deliveries(subscriptionId: string, query = ''): Promise<any[]> {
    const response = await this.request('GET', `/webhooks/${subscriptionId}/deliveries${query}`);
    if (response.status !== 200) throw new Error(`deliveries answered ${response.status}`);
    return response.body.items;
  }

  /** Waits until the subscription's delivery of `eventId` satisfies `check`. */
  async untilDelivery(subscriptionId: string, eventId: string, check: (d: any) => boolean, what: string, timeoutMs = 15000): Promise<any> {
    return waitFor(
      async () => {
        const found = (await this.deliveries(subscriptionId, '?limit=200')).find((d) => d.eventId === eventId);
        if (found && check(found)) return found;
        // Thrown, not returned: waitFor keeps it and says on timeout where the delivery stood.
        const subscription = (await this.request('GET', `/webhooks/${subscriptionId}`)).body;
        throw new Error(`delivery ${JSON.stringify(found ?? null)}, subscription state ${subscription?.state} (${subscription?.disabledReason ?? 'no reason'})`);
      },
      { timeoutMs, what },
    );
  }

  close(): Promise<void> {
    return this.gw.close();
  }
}

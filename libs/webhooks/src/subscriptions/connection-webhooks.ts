import { Injectable } from '@nestjs/common';
import { SubscriptionsService } from './subscriptions.service';

/**
 * What the connections API needs from webhooks: the subscription behind a
 * connection's `webhookUrl`. A port, so the connections lib depends on this
 * contract only.
 */
export abstract class ConnectionWebhooks {
  /** Refuses a URL the SSRF guard would refuse (400 WEBHOOK_URL_FORBIDDEN), before anything is stored. */
  abstract verifyUrl(url: string): Promise<void>;
  /**
   * Creates, updates or (with null) removes the connection's subscription.
   * Returns the signing secret when one was created; a changed URL keeps it.
   */
  abstract configure(sessionId: string, url: string | null): Promise<{ secret?: string }>;
}

@Injectable()
export class SubscriptionConnectionWebhooks extends ConnectionWebhooks {
  constructor(private readonly subscriptions: SubscriptionsService) {
    super();
  }

  verifyUrl(url: string): Promise<void> {
    return this.subscriptions.assertUrlAllowed(url);
  }

  configure(sessionId: string, url: string | null): Promise<{ secret?: string }> {
    return this.subscriptions.configureConnection(sessionId, url);
  }
}

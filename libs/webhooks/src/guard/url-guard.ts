import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../../config/src';
import { HostResolver, OutboundUrlGuard } from '../../../outbound/src/url-guard';

export { ForbiddenTargetError, HostResolver, type ResolvedAddress } from '../../../outbound/src/url-guard';

/**
 * The SSRF guard of webhook targets. Checked when a subscription is made, and
 * again on every new connection of a delivery (the delivery agent's DNS
 * lookup), with `WEBHOOK_ALLOW_PRIVATE_HOSTS` as the exceptions.
 */
@Injectable()
export class WebhookUrlGuard extends OutboundUrlGuard {
  constructor(resolver: HostResolver, config: AppConfig) {
    super(resolver, config.webhookAllowPrivateHosts, 'webhook target');
  }
}

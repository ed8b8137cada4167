import { webhookDeliverySuite } from './delivery.suite';
import { WebhookHarness } from './support/gateway-harness';

describe('webhook delivery, embedded (PGlite + database queue)', () => {
  webhookDeliverySuite(() => WebhookHarness.start());
});

import { CreateWebhooks1765000000000 } from './1765000000000-CreateWebhooks';
import { DeliveryFirstJob1765000000300 } from './1765000000300-DeliveryFirstJob';

export const webhookMigrations = [CreateWebhooks1765000000000, DeliveryFirstJob1765000000300];

import { CreateWebhooks1765000000000 } from './1765000000000-CreateWebhooks';

export const webhookMigrations = [CreateWebhooks1765000000000];

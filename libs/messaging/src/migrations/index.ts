import { MessagingColumns1765000000200 } from './1765000000200-MessagingColumns';

export const messagingMigrations = [MessagingColumns1765000000200];

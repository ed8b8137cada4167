import type { ExtraSchema } from '../../../libs/persistence/src';
import { webhookEntities, webhookMigrations } from '../../../libs/webhooks/src';
import { messagingMigrations } from '../../../libs/messaging/src/migrations';
import { queueMigrations } from '../../../libs/queue/src';
import { authStateMigrations } from '../../../libs/whatsapp/src/auth-state';
import { sessionRuntimeMigrations } from '../../../libs/sessions/src/migrations';
import { sessionOwnershipMigrations } from '../../../libs/sessions/src/ownership';

/** Tables owned by libraries other than persistence: one list, used at boot and by `npm run migrate`. */
export const schemaExtensions: ExtraSchema = { entities: [...webhookEntities], migrations: [...queueMigrations, ...sessionOwnershipMigrations, ...sessionRuntimeMigrations, ...authStateMigrations, ...webhookMigrations, ...messagingMigrations] };

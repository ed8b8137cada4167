import type { ExtraSchema } from '../../../libs/persistence/src';
import { sessionOwnershipMigrations } from '../../../libs/sessions/src/ownership';

/** Tables owned by libraries other than persistence: one list, used at boot and by `npm run migrate`. */
export const schemaExtensions: ExtraSchema = { entities: [], migrations: [...sessionOwnershipMigrations] };

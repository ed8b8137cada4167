import type { ExtraSchema } from '../../../libs/persistence/src';

/** Tables owned by libraries other than persistence: one list, used at boot and by `npm run migrate`. */
export const schemaExtensions: ExtraSchema = { entities: [], migrations: [] };

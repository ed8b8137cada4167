import { InitialSchema1764000000000 } from './1764000000000-InitialSchema';

/** Every migration of the product's own tables, in order. Libraries with tables of their own add theirs in `createDataSource`. */
export const coreMigrations = [InitialSchema1764000000000];

import { CreateSessionLeases1765000000100 } from './1765000000100-CreateSessionLeases';

/** The ownership tables' migrations, in order (they follow the core schema: leases reference sessions). */
export const sessionOwnershipMigrations = [CreateSessionLeases1765000000100];

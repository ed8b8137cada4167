import { CreateQueueJobs1760000000000 } from './1760000000000-CreateQueueJobs';

/** The queue tables' migrations, in order; the persistence layer registers them with its own. */
export const queueMigrations = [CreateQueueJobs1760000000000];

import { CreateAuthState1765000000200 } from './1765000000200-CreateAuthState';

/** The credentials tables' migrations, in order (after the core schema: they reference sessions). */
export const authStateMigrations = [CreateAuthState1765000000200];

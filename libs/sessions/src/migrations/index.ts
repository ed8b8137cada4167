import { SessionRuntime1764000002000 } from './1764000002000-SessionRuntime';

export const sessionRuntimeMigrations = [SessionRuntime1764000002000];

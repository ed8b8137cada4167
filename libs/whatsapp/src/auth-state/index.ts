export * from './auth-state-store';
export * from './auth-state.errors';
export * from './credentials-keyring';
export * from './database-auth-state-store';
export * from './credentials-key-rotation';
export * from './auth-state.provider';
export { authStateMigrations } from './migrations';
export * from './console-redaction';

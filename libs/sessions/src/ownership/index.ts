export * from './session-leases';
export * from './database-session-leases';
export * from './lease-keeper';
export { sessionOwnershipMigrations } from './migrations';

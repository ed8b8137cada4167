import type { DataSource } from 'typeorm';
import type { AppConfig } from '../../../config/src/app-config';
import type { SessionLeases } from '../../../sessions/src/ownership/session-leases';
import type { AuthStateStore } from './auth-state-store';
import { CredentialsKeyring } from './credentials-keyring';
import { DatabaseAuthStateStore } from './database-auth-state-store';

/** The store the worker uses: credentials in the application database, sealed under CREDENTIALS_KEY (and CREDENTIALS_KEY_PREVIOUS while a rotation rolls out). */
export function createAuthStateStore(dataSource: DataSource, config: AppConfig, leases: SessionLeases): AuthStateStore {
  return new DatabaseAuthStateStore(dataSource, CredentialsKeyring.fromConfig(config), leases);
}

import { ensureCredentialsKey, loadConfig } from '../../../libs/config/src';
import { createDataSource, DataDirLock } from '../../../libs/persistence/src';
import { CredentialsKeyring, rotateCredentialsKey } from '../../../libs/whatsapp/src/auth-state';

/**
 * `npm run rotate-credentials-key`: re-wraps every session's data key under
 * CREDENTIALS_KEY. Roll a new key out in three steps:
 *   1. run every process with CREDENTIALS_KEY=<new> and CREDENTIALS_KEY_PREVIOUS=<old>;
 *   2. run this command (safe while the service runs: only the wrapped data
 *      keys change, one row per transaction);
 *   3. drop CREDENTIALS_KEY_PREVIOUS.
 * With embedded storage the service holds the data directory, so stop it first.
 * Prints counts and key ids only, never key material.
 */
async function rotate(): Promise<number> {
  const config = ensureCredentialsKey(loadConfig());
  const keyring = CredentialsKeyring.fromConfig(config);
  const lock = config.embedded ? DataDirLock.acquire(config.dataDir) : undefined;
  const dataSource = await createDataSource({ databaseUrl: config.databaseUrl, pgliteDir: `${config.dataDir}/pgdata` });
  try {
    await dataSource.initialize();
    process.stdout.write(`re-wrapping session data keys under master key ${keyring.currentKeyId}\n`);
    const result = await rotateCredentialsKey(dataSource, keyring, { onProgress: (done) => process.stdout.write(`  re-wrapped ${done}\n`) });
    process.stdout.write(`sessions: ${result.total}, re-wrapped: ${result.rewrapped}, already current: ${result.alreadyCurrent}, unreadable: ${result.unreadable.length}\n`);
    if (result.unreadable.length > 0) {
      process.stderr.write(`no configured key opens the data key of: ${result.unreadable.join(', ')} (is CREDENTIALS_KEY_PREVIOUS set to the old key?)\n`);
      return 1;
    }
    return 0;
  } finally {
    await dataSource.destroy();
    lock?.release();
  }
}

rotate().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  },
);

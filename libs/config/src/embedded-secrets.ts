import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { AppConfig } from './app-config';

const CREDENTIALS_KEY_FILE = 'credentials.key';

/**
 * Embedded mode generates the credentials master key on first start and keeps
 * it next to the database, readable by the owner only. A deployment with
 * DATABASE_URL must pass CREDENTIALS_KEY instead (checked by loadConfig).
 */
export function ensureCredentialsKey(config: AppConfig): AppConfig {
  if (config.credentialsKey) return config;
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(config.dataDir, CREDENTIALS_KEY_FILE);
  try {
    const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return config.withCredentialsKey(key);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  // 'wx' fails if another process created the file meanwhile, instead of overwriting its key.
  fs.writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  return config.withCredentialsKey(key);
}

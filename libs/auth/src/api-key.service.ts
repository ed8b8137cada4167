import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { AppConfig } from '../../config/src';
import { ApiKeyEntity, ApiKeyRole } from '../../persistence/src';
import { AuthException } from './auth.exception';
import { generateApiKey, hashApiKey, keyPrefixOf, sameHash } from './api-key.hash';
import { Principal } from './principal';

export interface CreatedApiKey {
  entity: ApiKeyEntity;
  key: string;
}

const BOOTSTRAP_KEY_NAME = 'bootstrap-admin';

@Injectable()
export class ApiKeyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(ApiKeyService.name);
  private readonly envAdminHash?: string;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {
    this.envAdminHash = config.adminApiKey ? hashApiKey(config.adminApiKey) : undefined;
  }

  private get repository() {
    return this.dataSource.getRepository(ApiKeyEntity);
  }

  /**
   * Without ADMIN_API_KEY, the first start generates an admin key, stores only
   * its hash and prints it once: there is no other way to recover it.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.envAdminHash || !this.config.runsApi) return;
    const existing = await this.repository.count({ where: { role: 'admin', revokedAt: IsNull() } });
    if (existing > 0) return;
    const { key } = await this.create({ name: BOOTSTRAP_KEY_NAME, role: 'admin', sessionId: null });
    process.stdout.write(
      `\n  Generated admin API key (shown once, only its hash is stored):\n\n    ${key}\n\n` +
        `  Use it as "Authorization: Bearer <key>". Set ADMIN_API_KEY to choose your own.\n\n`,
    );
    this.logger.warn('generated a bootstrap admin API key; it was printed to stdout once');
  }

  async create(input: { name: string; role: ApiKeyRole; sessionId: string | null }): Promise<CreatedApiKey> {
    const key = generateApiKey();
    const entity = await this.repository.save(
      this.repository.create({ name: input.name, role: input.role, sessionId: input.sessionId, keyHash: hashApiKey(key), keyPrefix: keyPrefixOf(key), createdAt: new Date(), revokedAt: null }),
    );
    return { entity, key };
  }

  list(): Promise<ApiKeyEntity[]> {
    return this.repository.find({ where: { revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  async revoke(id: string): Promise<void> {
    const result = await this.dataSource.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    if (result[1] === 0) throw AuthException.keyNotFound(id);
  }

  /** Looked up on every request (an indexed read) so that a revocation takes effect at once, in every process. */
  verify(key: string): Promise<Principal | undefined> {
    return this.verifyHash(hashApiKey(key));
  }

  /** `verify` for a key already hashed (see `apiKeyHashOf`). */
  async verifyHash(hash: string): Promise<Principal | undefined> {
    if (this.envAdminHash && sameHash(hash, this.envAdminHash)) return { keyId: 'env-admin', role: 'admin', sessionId: null };
    // A plain indexed read: the repository's query building and entity mapping cost more CPU than the query itself on this per-request path.
    const rows: Array<{ id: string; role: ApiKeyRole; session_id: string | null }> = await this.dataSource.query(
      `SELECT id, role, session_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL LIMIT 1`,
      [hash],
    );
    return rows[0] ? { keyId: rows[0].id, role: rows[0].role, sessionId: rows[0].session_id ?? null } : undefined;
  }
}

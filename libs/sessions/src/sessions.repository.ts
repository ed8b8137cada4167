import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { Cursor, encodeCursor } from '../../http/src/cursor';
import { SessionEntity } from '../../persistence/src';
import type { SessionStatus } from '../../persistence/src';
import { SessionsException } from './sessions.exception';

const LIVE_STATUSES = new Set<SessionStatus>(['connected', 'qr', 'reconnecting']);

@Injectable()
export class SessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private get repository() {
    return this.dataSource.getRepository(SessionEntity);
  }

  async create(input: Pick<SessionEntity, 'label' | 'webhookUrl' | 'config'>): Promise<SessionEntity> {
    const now = new Date();
    return this.repository.save(
      this.repository.create({ ...input, status: 'created', desiredState: 'running', statusReason: null, phoneNumber: null, meta: {}, createdAt: now, updatedAt: now, lastSeen: null, deletedAt: null }),
    );
  }

  async find(id: string): Promise<SessionEntity | null> {
    const session = await this.repository.findOne({ where: { id, deletedAt: IsNull() } });
    return session && (await this.withLiveness([session]))[0];
  }

  /**
   * A status that needs a socket (connected, qr, ...) is only true while a
   * worker holds the session's lease; after a crash the row still says
   * `connected`, so without a live owner the session reads `connecting`.
   */
  private async withLiveness(sessions: SessionEntity[]): Promise<SessionEntity[]> {
    const needOwner = sessions.filter((s) => LIVE_STATUSES.has(s.status));
    if (needOwner.length === 0) return sessions;
    const rows: Array<{ session_id: string }> = await this.dataSource.query(`SELECT session_id FROM session_leases WHERE session_id = ANY($1) AND expires_at > now()`, [needOwner.map((s) => s.id)]);
    const live = new Set(rows.map((r) => r.session_id));
    for (const s of needOwner) if (!live.has(s.id)) s.status = 'connecting';
    return sessions;
  }

  /** The QR waiting to be scanned; 409 when the session is not waiting for one (or it expired). */
  async currentQr(id: string): Promise<{ qr: string; expiresAt: Date }> {
    const [row] = await this.dataSource.query(`SELECT status, qr, qr_expires_at FROM sessions WHERE id = $1 AND deleted_at IS NULL`, [id]);
    if (!row) throw SessionsException.notFound(id);
    if (row.status !== 'qr' || !row.qr || new Date(row.qr_expires_at) <= new Date()) throw SessionsException.notAwaitingQr(id, row.status);
    return { qr: row.qr, expiresAt: new Date(row.qr_expires_at) };
  }

  async page(limit: number, after?: Cursor, onlyId?: string): Promise<{ items: SessionEntity[]; nextCursor: string | null }> {
    const query = this.repository.createQueryBuilder('s').where('s.deleted_at IS NULL').orderBy('s.created_at', 'ASC').addOrderBy('s.id', 'ASC').limit(limit + 1);
    if (after) query.andWhere('(s.created_at, s.id) > (:createdAt, :id)', after);
    if (onlyId) query.andWhere('s.id = :onlyId', { onlyId });
    const rows = await query.getMany();
    const items = await this.withLiveness(rows.slice(0, limit));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null };
  }

  async update(id: string, changes: Partial<Pick<SessionEntity, 'label' | 'webhookUrl' | 'config'>>): Promise<SessionEntity | null> {
    await this.repository.update({ id, deletedAt: IsNull() }, { ...changes, updatedAt: new Date() } as never);
    return this.find(id);
  }

  /** Messages and events reference the session and are kept for audit, so a delete only marks it. */
  async markDeleted(id: string): Promise<boolean> {
    const result = await this.repository.update({ id, deletedAt: IsNull() }, { deletedAt: new Date(), desiredState: 'stopped', status: 'stopped', updatedAt: new Date() });
    return (result.affected ?? 0) > 0;
  }
}

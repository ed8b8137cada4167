import { Injectable } from '@nestjs/common';
import { DataSource, IsNull } from 'typeorm';
import { Cursor, encodeCursor } from '../../http/src/cursor';
import { SessionEntity } from '../../persistence/src';

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

  find(id: string): Promise<SessionEntity | null> {
    return this.repository.findOne({ where: { id, deletedAt: IsNull() } });
  }

  async page(limit: number, after?: Cursor, onlyId?: string): Promise<{ items: SessionEntity[]; nextCursor: string | null }> {
    const query = this.repository.createQueryBuilder('s').where('s.deleted_at IS NULL').orderBy('s.created_at', 'ASC').addOrderBy('s.id', 'ASC').limit(limit + 1);
    if (after) query.andWhere('(s.created_at, s.id) > (:createdAt, :id)', after);
    if (onlyId) query.andWhere('s.id = :onlyId', { onlyId });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
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

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventBus } from '../../../events/src';
import type { SessionStatus } from '../../../persistence/src';
import { Lease, SessionLeases } from '../ownership/session-leases';

export interface SessionChange {
  status?: SessionStatus;
  statusReason?: string | null;
  phoneNumber?: string | null;
  qr?: string | null;
  qrExpiresAt?: Date | null;
  desiredState?: 'running' | 'stopped';
  touchLastSeen?: boolean;
}

const COLUMNS: Record<Exclude<keyof SessionChange, 'touchLastSeen'>, string> = {
  status: 'status',
  statusReason: 'status_reason',
  phoneNumber: 'phone_number',
  qr: 'qr',
  qrExpiresAt: 'qr_expires_at',
  desiredState: 'desired_state',
};

/**
 * The one way a session's owner writes its state: the change, its audit row
 * and the lease check commit together, so a former owner (paused, cut off)
 * can never overwrite the current one. The event goes out after the commit,
 * with the audit row's id, so a re-publish cannot mint a second id.
 */
@Injectable()
export class SessionStateWriter {
  constructor(
    private readonly dataSource: DataSource,
    private readonly leases: SessionLeases,
    private readonly events: EventBus,
  ) {}

  async apply(lease: Lease, change: SessionChange, audit: { type: string; detail?: Record<string, unknown> }): Promise<void> {
    const sets: string[] = ['updated_at = now()'];
    const values: unknown[] = [lease.sessionId];
    for (const [key, column] of Object.entries(COLUMNS) as Array<[keyof typeof COLUMNS, string]>) {
      if (change[key] === undefined) continue;
      values.push(change[key]);
      sets.push(`${column} = $${values.length}`);
    }
    if (change.touchLastSeen) sets.push('last_seen = now()');
    const detail = { ...audit.detail, ...(change.status && { status: change.status }), ...(change.statusReason !== undefined && { statusReason: change.statusReason }) };

    const auditRow = await this.dataSource.transaction(async (manager) => {
      await this.leases.assertCurrent(manager, lease);
      const [, updated] = await manager.query(`UPDATE sessions SET ${sets.join(', ')} WHERE id = $1 AND deleted_at IS NULL`, values);
      const [row] = await manager.query(`INSERT INTO events (session_id, type, detail) VALUES ($1, $2, $3) RETURNING id, timestamp`, [lease.sessionId, audit.type, detail]);
      return updated === 0 ? undefined : (row as { id: string; timestamp: Date });
    });
    if (!auditRow) return;

    const timestamp = new Date(auditRow.timestamp).toISOString();
    if (change.status) {
      await this.events.publish({
        id: `${lease.sessionId}:audit:${auditRow.id}`,
        type: 'connection.status',
        sessionId: lease.sessionId,
        timestamp,
        payload: { status: change.status, statusReason: change.statusReason ?? null, ...(change.phoneNumber && { phoneNumber: change.phoneNumber }) },
      });
    }
    if (change.qr) {
      await this.events.publish({
        id: `${lease.sessionId}:qr:${auditRow.id}`,
        type: 'connection.qr',
        sessionId: lease.sessionId,
        timestamp,
        payload: { qr: change.qr, expiresAt: change.qrExpiresAt?.toISOString() ?? null },
      });
    }
  }
}

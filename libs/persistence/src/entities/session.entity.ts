import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type SessionStatus = 'created' | 'connecting' | 'qr' | 'connected' | 'reconnecting' | 'logged_out' | 'failed' | 'stopped';
export type DesiredState = 'running' | 'stopped';

@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text', nullable: true })
  label: string | null;

  @Column({ type: 'text' })
  status: SessionStatus;

  @Column({ name: 'desired_state', type: 'text' })
  desiredState: DesiredState;

  @Column({ name: 'status_reason', type: 'text', nullable: true })
  statusReason: string | null;

  @Column({ name: 'phone_number', type: 'text', nullable: true })
  phoneNumber: string | null;

  @Column({ name: 'webhook_url', type: 'text', nullable: true })
  webhookUrl: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  config: Record<string, unknown>;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  meta: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'last_seen', type: 'timestamptz', nullable: true })
  lastSeen: Date | null;

  /** The QR waiting to be scanned, while status is `qr`. */
  @Column({ type: 'text', nullable: true, select: false })
  qr: string | null;

  @Column({ name: 'qr_expires_at', type: 'timestamptz', nullable: true })
  qrExpiresAt: Date | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export type MessageDirection = 'in' | 'out';
export type MessageStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'played' | 'retrying' | 'failed' | 'received';

@Entity({ name: 'messages' })
export class MessageEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'session_id', type: 'uuid' })
  sessionId: string;

  /** The client's idempotency key (outgoing) or the WhatsApp id (incoming); unique per session. */
  @Column({ name: 'message_id', type: 'text' })
  messageId: string;

  @Column({ type: 'text' })
  direction: MessageDirection;

  @Column({ name: 'to', type: 'text' })
  to: string;

  @Column({ name: 'from', type: 'text', nullable: true })
  from: string | null;

  @Column({ type: 'text' })
  type: string;

  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  /** Hash of the normalised payload: the idempotency check compares it. */
  @Column({ name: 'payload_hash', type: 'text', nullable: true })
  payloadHash: string | null;

  @Column({ type: 'text' })
  status: MessageStatus;

  /** One timestamp per status reached, e.g. { queued: '...', sent: '...' }. */
  @Column({ name: 'status_times', type: 'jsonb', default: () => "'{}'" })
  statusTimes: Record<string, string>;

  @Column({ name: 'wa_message_id', type: 'text', nullable: true })
  waMessageId: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  @Column({ type: 'jsonb', nullable: true })
  error: { code: string; message: string } | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;
}

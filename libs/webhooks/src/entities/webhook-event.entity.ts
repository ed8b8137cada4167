import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An event as delivered: the exact body is kept so every retry and replay signs the same bytes. */
@Entity({ name: 'webhook_events' })
export class WebhookEventEntity {
  @PrimaryColumn({ type: 'text' })
  id: string;

  @Column({ type: 'text' })
  type: string;

  @Column({ name: 'session_id', type: 'text' })
  sessionId: string;

  @Column({ type: 'timestamptz' })
  timestamp: Date;

  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** `global`: made at POST /webhooks; `connection`: the implicit one behind a connection's webhookUrl. */
export type SubscriptionKind = 'global' | 'connection';
export type SubscriptionState = 'active' | 'disabled';

@Entity({ name: 'webhook_subscriptions' })
export class WebhookSubscriptionEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  kind: SubscriptionKind;

  @Column({ type: 'text' })
  url: string;

  /** Event types delivered; empty means all. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  events: string[];

  /** Only this connection's events; null: every connection's. */
  @Column({ name: 'session_id', type: 'uuid', nullable: true })
  sessionId: string | null;

  /** The signing secret, sealed with the credentials key (see SecretBox). */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  /** The secret before the last rotation, still signed with until `previousSecretExpiresAt`. */
  @Column({ name: 'previous_secret_sealed', type: 'text', nullable: true })
  previousSecretSealed: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ type: 'text' })
  state: SubscriptionState;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason: string | null;

  @Column({ name: 'disabled_at', type: 'timestamptz', nullable: true })
  disabledAt: Date | null;

  /** Start of the current run of failed attempts; null after a success. */
  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince: Date | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** `disabled`: its subscription was disabled (410 or failing for too long) before it was delivered. */
export type DeliveryState = 'pending' | 'succeeded' | 'failed' | 'disabled';
export const DELIVERY_STATES: readonly DeliveryState[] = ['pending', 'succeeded', 'failed', 'disabled'];

/** One event for one subscription: unique on that pair, so an event is never fanned out twice to one endpoint. */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'event_id', type: 'text' })
  eventId: string;

  @Column({ name: 'subscription_id', type: 'uuid' })
  subscriptionId: string;

  @Column({ type: 'text' })
  state: DeliveryState;

  /** Attempts made, all runs together. */
  @Column({ type: 'int' })
  attempts: number;

  /** Times the delivery was replayed; each replay is a new run of the retry schedule. */
  @Column({ type: 'int' })
  replays: number;

  /** Attempts made before the last replay: the retry schedule restarts from there. */
  @Column({ name: 'run_start_attempt', type: 'int' })
  runStartAttempt: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ name: 'last_attempt_at', type: 'timestamptz', nullable: true })
  lastAttemptAt: Date | null;

  @Column({ name: 'last_status_code', type: 'int', nullable: true })
  lastStatusCode: number | null;

  /** The first ~1 KB of the last response body. */
  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;
}

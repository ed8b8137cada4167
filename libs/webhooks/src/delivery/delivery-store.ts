import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DomainEvent } from '../../../events/src/domain-event';
import { type Cursor, encodeCursor } from '../../../http/src/cursor';
import type { DeliveryState } from '../entities/webhook-delivery.entity';
import type { SubscriptionKind, SubscriptionState } from '../entities/webhook-subscription.entity';
import { queryRows, type Row } from '../../../persistence/src/query-rows';

/** What one attempt needs, read in one query. */
export interface AttemptTarget {
  id: string;
  eventId: string;
  state: DeliveryState;
  attempts: number;
  replays: number;
  runStartAttempt: number;
  body: string;
  subscription: {
    id: string;
    kind: SubscriptionKind;
    url: string;
    sessionId: string | null;
    state: SubscriptionState;
    secretSealed: string;
    previousSecretSealed: string | null;
    previousSecretExpiresAt: Date | null;
    failingSince: Date | null;
  };
}

export interface AttemptRecord {
  attempt: number;
  replays: number;
  state: DeliveryState;
  statusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  nextAttemptAt: Date | null;
}

export interface SuccessRecord {
  deliveryId: string;
  attempt: number;
  replays: number;
  statusCode: number;
  responseExcerpt: string | null;
}

export interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  sessionId: string;
  subscriptionId: string;
  state: DeliveryState;
  attempts: number;
  replays: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  lastStatusCode: number | null;
  responseExcerpt: string | null;
  error: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

const date = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));

/** The webhook delivery tables. Every write is one statement, atomic on its own (PGlite included). */
@Injectable()
export class DeliveryStore {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Records events and one pending delivery per (event, matching active
   * subscription), for many events in one statement, and returns the
   * deliveries it created, per event in input order. Each delivery notes the
   * job that is to carry its first attempt (`jobId` of its event). An event
   * recorded before (published again) creates nothing: its deliveries exist
   * already, and were enqueued by whoever created them (or are re-enqueued by
   * the reconciler after a crash between this statement and the enqueue).
   */
  async fanOut(events: ReadonlyArray<{ event: DomainEvent; body: string; jobId: string }>): Promise<string[][]> {
    if (events.length === 0) return [];
    const input = events.map(({ event, body, jobId }) => ({ id: event.id, type: event.type, session_id: event.sessionId, timestamp: event.timestamp, body, job_id: jobId }));
    const rows = await queryRows<{ id: string; event_id: string }>(
      this.dataSource,
      `WITH input AS (
         SELECT DISTINCT ON (x.id) x.*
         FROM jsonb_to_recordset($1::jsonb) AS x(id text, type text, session_id text, timestamp timestamptz, body text, job_id text)
       ), matched AS (
         SELECT i.id AS event_id, i.job_id, s.id AS subscription_id
         FROM input i JOIN webhook_subscriptions s
           ON s.state = 'active' AND (s.session_id IS NULL OR s.session_id::text = i.session_id) AND (cardinality(s.events) = 0 OR i.type = ANY(s.events))
       ), ev AS (
         INSERT INTO webhook_events (id, type, session_id, timestamp, body)
         SELECT i.id, i.type, i.session_id, i.timestamp, i.body FROM input i WHERE i.id IN (SELECT event_id FROM matched)
         ON CONFLICT (id) DO NOTHING
       )
       INSERT INTO webhook_deliveries (event_id, subscription_id, next_attempt_at, first_job_id)
       SELECT event_id, subscription_id, now(), job_id FROM matched
       ON CONFLICT (event_id, subscription_id) DO NOTHING
       RETURNING id::text AS id, event_id`,
      [JSON.stringify(input)],
    );
    const byEvent = new Map<string, string[]>();
    for (const row of rows) {
      const list = byEvent.get(row.event_id);
      if (list) list.push(row.id);
      else byEvent.set(row.event_id, [row.id]);
    }
    // An id twice in one batch: its deliveries belong to the first occurrence only.
    return events.map(({ event }) => {
      const ids = byEvent.get(event.id) ?? [];
      byEvent.delete(event.id);
      return ids;
    });
  }

  /** What the attempts of many deliveries need, in one query; a missing id is a deleted delivery. */
  async loadTargets(deliveryIds: readonly string[]): Promise<Map<string, AttemptTarget>> {
    const targets = new Map<string, AttemptTarget>();
    if (deliveryIds.length === 0) return targets;
    const rows = await queryRows(
      this.dataSource,
      `SELECT d.id::text AS id, d.event_id, d.state, d.attempts, d.replays, d.run_start_attempt, e.body,
              s.id::text AS sub_id, s.kind, s.url, s.session_id::text AS session_id, s.state AS sub_state, s.secret_sealed,
              s.previous_secret_sealed, s.previous_secret_expires_at, s.failing_since
       FROM webhook_deliveries d
       JOIN webhook_events e ON e.id = d.event_id
       JOIN webhook_subscriptions s ON s.id = d.subscription_id
       WHERE d.id = ANY(string_to_array($1::text, ',')::uuid[])`,
      [deliveryIds.join(',')],
    );
    for (const row of rows) targets.set(String(row.id), toTarget(row));
    return targets;
  }

  /**
   * Stores many successful attempts in one statement; returns, per record,
   * whether it was stored (false: another run of the same attempt already was).
   */
  async recordSuccesses(records: readonly SuccessRecord[]): Promise<boolean[]> {
    if (records.length === 0) return [];
    const input = records.map((r) => ({ id: r.deliveryId, attempt: r.attempt, replays: r.replays, status_code: r.statusCode, response_excerpt: r.responseExcerpt }));
    const rows = await queryRows<{ id: string }>(
      this.dataSource,
      `UPDATE webhook_deliveries d
       SET attempts = i.attempt, state = 'succeeded', last_status_code = i.status_code, response_excerpt = i.response_excerpt, error = NULL,
           next_attempt_at = NULL, last_attempt_at = now(), updated_at = now(), delivered_at = now()
       FROM jsonb_to_recordset($1::jsonb) AS i(id uuid, attempt int, replays int, status_code int, response_excerpt text)
       WHERE d.id = i.id AND d.attempts = i.attempt - 1 AND d.replays = i.replays AND d.state = 'pending'
       RETURNING d.id::text AS id`,
      [JSON.stringify(input)],
    );
    const stored = new Set(rows.map((r) => r.id));
    return records.map((r) => stored.has(r.deliveryId));
  }

  /** Stores an attempt's outcome unless another run of the same attempt already did (false then). */
  async recordAttempt(deliveryId: string, record: AttemptRecord): Promise<boolean> {
    const rows = await queryRows(
      this.dataSource,
      `UPDATE webhook_deliveries
       SET attempts = $2, state = $4, last_status_code = $5, response_excerpt = $6, error = $7, next_attempt_at = $8,
           last_attempt_at = now(), updated_at = now(), delivered_at = CASE WHEN $4 = 'succeeded' THEN now() ELSE delivered_at END
       WHERE id = $1 AND attempts = $2 - 1 AND replays = $3 AND state = 'pending'
       RETURNING id`,
      [deliveryId, record.attempt, record.replays, record.state, record.statusCode, record.responseExcerpt, record.error, record.nextAttemptAt],
    );
    return rows.length === 1;
  }

  /**
   * Puts back a delivery that an attempt marked disabled while its
   * subscription was being switched off, when the subscription turned out to
   * be active after all (re-enabled meanwhile): it goes on with its next
   * attempt at `nextAttemptAt`, or is failed when it has none left (null).
   */
  async resumeDisabled(deliveryId: string, attempt: number, replays: number, nextAttemptAt: Date | null): Promise<boolean> {
    const rows = await queryRows(
      this.dataSource,
      `UPDATE webhook_deliveries d SET state = CASE WHEN $4::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, next_attempt_at = $4, updated_at = now()
       WHERE d.id = $1 AND d.attempts = $2 AND d.replays = $3 AND d.state = 'disabled'
         AND EXISTS (SELECT 1 FROM webhook_subscriptions s WHERE s.id = d.subscription_id AND s.state = 'active')
       RETURNING d.id`,
      [deliveryId, attempt, replays, nextAttemptAt],
    );
    return rows.length === 1;
  }

  /** A delivery that will not be attempted because its subscription is disabled. */
  async markDisabled(deliveryId: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_deliveries SET state = 'disabled', next_attempt_at = NULL, updated_at = now() WHERE id = $1 AND state = 'pending'`, [
      deliveryId,
    ]);
  }

  /** Start of the subscription's current run of failures (set now if it had none). */
  async markSubscriptionFailing(subscriptionId: string): Promise<Date> {
    const [row] = await queryRows(
      this.dataSource,
      `UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, now()) WHERE id = $1 RETURNING failing_since`,
      [subscriptionId],
    );
    return date(row?.failing_since) ?? new Date();
  }

  async clearSubscriptionFailing(subscriptionId: string): Promise<void> {
    await this.dataSource.query(`UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL`, [subscriptionId]);
  }

  /** Most recent first. */
  async page(subscriptionId: string, limit: number, state?: DeliveryState, before?: Cursor): Promise<{ items: DeliveryRow[]; nextCursor: string | null }> {
    const params: unknown[] = [subscriptionId, limit + 1];
    let where = 'd.subscription_id = $1';
    if (state) {
      params.push(state);
      where += ` AND d.state = $${params.length}`;
    }
    if (before) {
      params.push(before.createdAt, before.id);
      where += ` AND (d.created_at, d.id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`;
    }
    const rows = await queryRows(
      this.dataSource,
      `SELECT d.*, d.id::text AS id, e.type AS event_type, e.session_id AS event_session_id
       FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE ${where} ORDER BY d.created_at DESC, d.id DESC LIMIT $2`,
      params,
    );
    const items = rows.slice(0, limit).map(toDeliveryRow);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null };
  }

  async find(subscriptionId: string, deliveryId: string): Promise<DeliveryRow | null> {
    const [row] = await queryRows(
      this.dataSource,
      `SELECT d.*, d.id::text AS id, e.type AS event_type, e.session_id AS event_session_id
       FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id
       WHERE d.subscription_id = $1 AND d.id::text = $2`,
      [subscriptionId, deliveryId],
    );
    return row ? toDeliveryRow(row) : null;
  }

  /** Puts a finished delivery back to pending as a new run of the schedule; null when it is not finished (anymore). */
  async replay(deliveryId: string): Promise<{ replays: number; attempt: number } | null> {
    const [row] = await queryRows(
      this.dataSource,
      `UPDATE webhook_deliveries
       SET state = 'pending', replays = replays + 1, run_start_attempt = attempts, next_attempt_at = now(), error = NULL, updated_at = now()
       WHERE id = $1 AND state IN ('failed', 'disabled', 'succeeded')
       RETURNING replays, attempts`,
      [deliveryId],
    );
    return row ? { replays: Number(row.replays), attempt: Number(row.attempts) + 1 } : null;
  }

  /** Pending deliveries whose next attempt is overdue (their job was lost to a crash between two writes). */
  async overdue(before: Date, limit: number): Promise<Array<{ id: string; replays: number; attempt: number; firstJobId: string | null }>> {
    const rows = await queryRows(
      this.dataSource,
      `SELECT id::text AS id, replays, attempts, first_job_id FROM webhook_deliveries
       WHERE state = 'pending' AND next_attempt_at < $1 ORDER BY next_attempt_at LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => ({
      id: String(r.id),
      replays: Number(r.replays),
      attempt: Number(r.attempts) + 1,
      firstJobId: (r.first_job_id as string | null) ?? null,
    }));
  }
}

function toTarget(row: Row): AttemptTarget {
  return {
    id: String(row.id),
    eventId: String(row.event_id),
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    replays: Number(row.replays),
    runStartAttempt: Number(row.run_start_attempt),
    body: String(row.body),
    subscription: {
      id: String(row.sub_id),
      kind: row.kind as SubscriptionKind,
      url: String(row.url),
      sessionId: (row.session_id as string | null) ?? null,
      state: row.sub_state as SubscriptionState,
      secretSealed: String(row.secret_sealed),
      previousSecretSealed: (row.previous_secret_sealed as string | null) ?? null,
      previousSecretExpiresAt: date(row.previous_secret_expires_at),
      failingSince: date(row.failing_since),
    },
  };
}

function toDeliveryRow(row: Row): DeliveryRow {
  return {
    id: String(row.id),
    eventId: String(row.event_id),
    eventType: String(row.event_type),
    sessionId: String(row.event_session_id),
    subscriptionId: String(row.subscription_id),
    state: row.state as DeliveryState,
    attempts: Number(row.attempts),
    replays: Number(row.replays),
    nextAttemptAt: date(row.next_attempt_at),
    lastAttemptAt: date(row.last_attempt_at),
    lastStatusCode: row.last_status_code === null ? null : Number(row.last_status_code),
    responseExcerpt: (row.response_excerpt as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    createdAt: date(row.created_at)!,
    deliveredAt: date(row.delivered_at),
  };
}

import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PreparedStatement } from '../../persistence/src/prepared-statement';
import { queryRows } from '../../persistence/src/query-rows';
import type { DeliveryStatus } from '../../contracts/src';
import type { Cursor } from '../../http/src/cursor';
import type { RowsInsert } from '../../queue/src/message-queue';
import { SQL_STATUS_RANK, impliedDeliveryStatuses, type MessageStatus } from './message-status';

export interface MessageError {
  code: string;
  message: string;
}

/** One row of `messages`, outgoing or incoming. */
export interface MessageRecord {
  id: string;
  sessionId: string;
  messageId: string;
  direction: 'in' | 'out';
  to: string;
  from: string | null;
  chat: string | null;
  type: string;
  payload: Record<string, unknown>;
  payloadHash: string | null;
  status: MessageStatus;
  statusTimes: Record<string, string>;
  waMessageId: string | null;
  attempts: number;
  error: MessageError | null;
  scheduledAt: Date | null;
  deadLetteredAt: Date | null;
  replays: number;
  jobId: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** created_at with its microseconds, for exact keyset cursors. */
  cursorTime: string;
}

const COLUMNS = `id, session_id, message_id, direction, "to", "from", chat, type, payload, payload_hash, status, status_times, wa_message_id,
  attempts, error, scheduled_at, dead_lettered_at, replays, job_id, created_at, updated_at,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_time`;

type Row = Record<string, unknown>;

const asDate = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value)));
const asJson = <T>(value: unknown): T => (typeof value === 'string' ? (JSON.parse(value) as T) : (value as T));

function toRecord(row: Row): MessageRecord {
  return {
    id: row.id as string,
    sessionId: row.session_id as string,
    messageId: row.message_id as string,
    direction: row.direction as 'in' | 'out',
    to: row.to as string,
    from: (row.from as string | null) ?? null,
    chat: (row.chat as string | null) ?? null,
    type: row.type as string,
    payload: asJson(row.payload),
    payloadHash: (row.payload_hash as string | null) ?? null,
    status: row.status as MessageStatus,
    statusTimes: asJson(row.status_times) ?? {},
    waMessageId: (row.wa_message_id as string | null) ?? null,
    attempts: Number(row.attempts),
    error: asJson(row.error) ?? null,
    scheduledAt: asDate(row.scheduled_at),
    deadLetteredAt: asDate(row.dead_lettered_at),
    replays: Number(row.replays ?? 0),
    jobId: (row.job_id as string | null) ?? null,
    createdAt: asDate(row.created_at)!,
    updatedAt: asDate(row.updated_at)!,
    cursorTime: row.cursor_time as string,
  };
}

const stamp = (status: string, at: Date) => JSON.stringify({ [status]: at.toISOString() });

/**
 * The row an accepted send becomes, from what was inserted: the accepting
 * INSERTs return only the ids they stored, so that PostgreSQL does not send
 * back (and the driver parse) the payload and the rest of every row.
 */
function insertedRecord(m: NewOutgoing, at: Date): MessageRecord {
  const iso = at.toISOString();
  return {
    id: m.id,
    sessionId: m.sessionId,
    messageId: m.messageId,
    direction: 'out',
    to: m.to,
    from: null,
    chat: m.to,
    type: m.type,
    payload: m.payload,
    payloadHash: m.payloadHash,
    status: 'queued',
    statusTimes: { queued: iso },
    waMessageId: m.waMessageId,
    attempts: 0,
    error: null,
    scheduledAt: m.scheduledAt,
    deadLetteredAt: null,
    replays: 0,
    jobId: m.id,
    createdAt: at,
    updatedAt: at,
    // created_at holds the JavaScript time exactly (milliseconds), so its microseconds are zeros.
    cursorTime: iso.replace(/Z$/, '000Z'),
  };
}

export interface NewOutgoing {
  /** Chosen by the caller so the job id (the same value) is known before the insert. */
  id: string;
  sessionId: string;
  messageId: string;
  to: string;
  type: string;
  payload: Record<string, unknown>;
  payloadHash: string;
  waMessageId: string;
  scheduledAt: Date | null;
}

export interface NewIncoming {
  sessionId: string;
  waMessageId: string;
  from: string;
  to: string;
  chat: string;
  type: string;
  payload: Record<string, unknown>;
  at: Date;
}

export interface DeliveryReceipt {
  sessionId: string;
  waMessageId: string;
  status: DeliveryStatus;
  at: Date;
}

/** Identifies an outgoing message by what a receipt names. */
export const deliveryKey = (sessionId: string, waMessageId: string) => `${sessionId}\0${waMessageId}`;

export interface MessageFilters {
  direction?: 'in' | 'out';
  status?: MessageStatus;
  chat?: string;
  since?: Date;
}

export interface Page<T> {
  items: T[];
  nextCursor: Cursor | null;
}

/**
 * Ends the `locked` step of a statement that changes many messages at once:
 * the rows are locked one by one in id order before any is changed. Batches
 * list their messages in arrival order, and acks and receipts of the same
 * messages arrive at once in different orders; two statements that each lock
 * in their own order wait for each other until PostgreSQL aborts one. In one
 * global order, one simply waits for the other. The conditions sit in the
 * locking step: rechecked on the latest row once it is locked, they cannot
 * change before the UPDATE that follows.
 */
const IN_ID_ORDER = 'ORDER BY m.id FOR UPDATE OF m';

/**
 * The accepting INSERT of a batch of sends (`outgoingInsert`; with the
 * database queue the first half of a statement that also inserts their jobs).
 * Prepared: it runs once per batch while the next batch waits. Exported for
 * bench:statements, which times it prepared and plain.
 */
export const INSERT_OUTGOING = new PreparedStatement(
  'messages.insert_outgoing',
  `INSERT INTO messages (id, job_id, session_id, message_id, direction, "to", chat, type, payload, payload_hash, status, status_times, wa_message_id, scheduled_at, created_at, updated_at)
   SELECT x.id, x.id::text, s.id, x.message_id, 'out', x."to", x."to", x.type, x.payload, x.payload_hash, 'queued', $2::jsonb, x.wa_message_id, x.scheduled_at, $3::timestamptz, $3::timestamptz
   FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, ord)
   CROSS JOIN LATERAL jsonb_to_record(e.item) AS x(id uuid, session_id uuid, message_id text, "to" text, type text, payload jsonb, payload_hash text, wa_message_id text, scheduled_at timestamptz)
   JOIN sessions s ON s.id = x.session_id AND s.deleted_at IS NULL AND s.status <> 'logged_out'
   ORDER BY e.ord
   ON CONFLICT ON CONSTRAINT messages_session_message_id_key DO NOTHING
   RETURNING id AS key`,
);

/**
 * The worker's status changes of many messages at once (StatusWriter): the
 * start of attempts, server acks, receipts. Each batch is one JSON array
 * parameter, so that the text is fixed and PostgreSQL plans it once.
 */
const START_SENDING = new PreparedStatement(
  'messages.start_sending',
  `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(k_id uuid, k_stamp jsonb, k_at timestamptz)),
   locked AS (SELECT m.id AS k_row, v.* FROM messages m JOIN v ON m.id = v.k_id WHERE status IN ('queued', 'retrying', 'sending') ${IN_ID_ORDER})
   UPDATE messages SET status = 'sending', attempts = attempts + 1, status_times = status_times || v.k_stamp, updated_at = v.k_at
   FROM locked v WHERE messages.id = v.k_row
   RETURNING ${COLUMNS}, (SELECT s.config FROM sessions s WHERE s.id = messages.session_id AND s.deleted_at IS NULL) AS session_config`,
);

const MARK_SENT = new PreparedStatement(
  'messages.mark_sent',
  `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(k_id uuid, k_stamp jsonb, k_ack_at timestamptz)),
   locked AS (SELECT m.id AS k_row, v.* FROM messages m JOIN v ON m.id = v.k_id WHERE status <> 'failed' ${IN_ID_ORDER})
   UPDATE messages SET status = CASE WHEN ${SQL_STATUS_RANK} < 2 THEN 'sent' ELSE status END,
     status_times = v.k_stamp || status_times, error = NULL, dead_lettered_at = NULL, processed_at = v.k_ack_at, updated_at = now()
   FROM locked v WHERE messages.id = v.k_row RETURNING ${COLUMNS}`,
);

const ADVANCE_DELIVERY = new PreparedStatement(
  'messages.advance_delivery',
  `WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(k_session uuid, k_wa_id text, k_status text, k_implied jsonb, k_stamp jsonb, k_rank int)),
   locked AS (SELECT m.id AS k_row, v.* FROM messages m JOIN v ON m.session_id = v.k_session AND m.wa_message_id = v.k_wa_id
              WHERE direction = 'out' AND ${SQL_STATUS_RANK} < v.k_rank ${IN_ID_ORDER})
   UPDATE messages SET status = v.k_status, status_times = v.k_implied || status_times || v.k_stamp, dead_lettered_at = NULL, updated_at = now()
   FROM locked v WHERE messages.id = v.k_row
   RETURNING ${COLUMNS}`,
);

/**
 * Every statement the send pipeline runs on `messages`. State changes are
 * single conditional UPDATEs, so the worker, receipts and the API can race
 * without explicit locks: a transition that is no longer allowed simply
 * matches no row. Those that change many rows take the rows' locks in one
 * order first (IN_ID_ORDER).
 */
@Injectable()
export class MessagesRepository {
  constructor(private readonly dataSource: DataSource) {}

  private async one(sql: string, params: unknown[]): Promise<MessageRecord | undefined> {
    const rows = await queryRows(this.dataSource, sql, params);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  private async many(sql: string, params: unknown[]): Promise<MessageRecord[]> {
    return (await queryRows(this.dataSource, sql, params)).map(toRecord);
  }

  /** The connection as the send route needs it; undefined when unknown or deleted. */
  async sessionState(sessionId: string): Promise<{ status: string; config: Record<string, unknown> } | undefined> {
    const rows: Row[] = await this.dataSource.query(`SELECT status, config FROM sessions WHERE id = $1 AND deleted_at IS NULL`, [sessionId]);
    return rows[0] ? { status: rows[0].status as string, config: asJson(rows[0].config) ?? {} } : undefined;
  }

  findById(id: string): Promise<MessageRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM messages WHERE id = $1`, [id]);
  }

  findByMessageId(sessionId: string, messageId: string): Promise<MessageRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM messages WHERE session_id = $1 AND message_id = $2`, [sessionId, messageId]);
  }

  findOutgoingByWaId(sessionId: string, waMessageId: string): Promise<MessageRecord | undefined> {
    return this.one(`SELECT ${COLUMNS} FROM messages WHERE session_id = $1 AND wa_message_id = $2 AND direction = 'out' LIMIT 1`, [sessionId, waMessageId]);
  }

  /**
   * Inserts when the connection exists and is not logged out and the key is
   * new; otherwise undefined (the caller then finds out which). The unique
   * constraint settles concurrent duplicates. The batch's prepared statement
   * with one row: a lone send is the common case on the accepting path below
   * a few hundred requests per second, and PostgreSQL plans a prepared
   * statement once instead of at every call (bench:statements: 1 row,
   * prepared p50 0.36 ms against 0.64 ms plain).
   */
  async insertOutgoing(m: NewOutgoing, at = new Date()): Promise<MessageRecord | undefined> {
    return (await this.insertOutgoingMany([m], at)).get(m.id);
  }

  /**
   * `insertOutgoing` for many sends in one statement (the accept path's group
   * commit): the same conditions row by row, the unique constraint still
   * settling duplicates, including two of them in one batch. Returns the rows
   * stored, keyed by id; an absent id was not stored.
   */
  async insertOutgoingMany(items: ReadonlyArray<NewOutgoing>, at = new Date()): Promise<Map<string, MessageRecord>> {
    if (items.length === 0) return new Map();
    const { dataSource, statement, values } = this.outgoingInsert(items, at);
    const rows = await statement.rows<{ key: string }>(dataSource, values);
    return this.storedRecords(items, new Set(rows.map((r) => String(r.key))), at);
  }

  /**
   * `insertOutgoingMany`'s statement, for a queue to run together with the
   * jobs of the rows it stores (`MessageQueue.insertWithJobs`): it returns
   * each stored row's id as its `key`.
   */
  outgoingInsert(items: ReadonlyArray<NewOutgoing>, at: Date): RowsInsert {
    const batch = items.map((m) => ({
      id: m.id,
      session_id: m.sessionId,
      message_id: m.messageId,
      to: m.to,
      type: m.type,
      payload: m.payload,
      payload_hash: m.payloadHash,
      wa_message_id: m.waMessageId,
      scheduled_at: m.scheduledAt ? m.scheduledAt.toISOString() : null,
    }));
    return { dataSource: this.dataSource, statement: INSERT_OUTGOING, values: [JSON.stringify(batch), stamp('queued', at), at] };
  }

  /** The records of the sends whose rows `outgoingInsert` stored (their ids in `stored`), by id. */
  storedRecords(items: ReadonlyArray<NewOutgoing>, stored: ReadonlySet<string>, at: Date): Map<string, MessageRecord> {
    return new Map(items.filter((m) => stored.has(m.id)).map((m) => [m.id, insertedRecord(m, at)]));
  }

  /**
   * Stores an incoming message once per (session, WhatsApp id): a second
   * report (notify, then append after a reconnect) inserts nothing. Our own
   * sends echoed back by WhatsApp are not incoming messages.
   */
  insertIncoming(m: NewIncoming): Promise<MessageRecord | undefined> {
    return this.one(
      `INSERT INTO messages (session_id, message_id, direction, "to", "from", chat, type, payload, status, status_times, wa_message_id)
       SELECT $1, $2, 'in', $3, $4, $5, $6, $7::jsonb, 'received', $8::jsonb, $2
       WHERE NOT EXISTS (SELECT 1 FROM messages WHERE session_id = $1 AND wa_message_id = $2 AND direction = 'out')
       ON CONFLICT ON CONSTRAINT messages_session_message_id_key DO NOTHING
       RETURNING ${COLUMNS}`,
      [m.sessionId, m.waMessageId, m.to, m.from, m.chat, m.type, JSON.stringify(m.payload), stamp('received', m.at)],
    );
  }

  /**
   * Starts attempts, many at once (see StatusWriter): each message still
   * waiting to be sent becomes `sending`, and the connection's current config
   * (for pacing) is read in the same statement, one round trip before a send
   * instead of three. Ids must be distinct; the result holds those that
   * started, by id (one already sent, failed or gone is left alone).
   */
  async startSendingMany(attempts: ReadonlyArray<{ id: string; at: Date }>): Promise<Map<string, { message: MessageRecord; sessionConfig: Record<string, unknown> | undefined }>> {
    if (attempts.length === 0) return new Map();
    const rows = await START_SENDING.rows<Row>(this.dataSource, [JSON.stringify(attempts.map((a) => ({ k_id: a.id, k_stamp: { sending: a.at.toISOString() }, k_at: a.at.toISOString() })))]);
    return new Map(
      rows.map((row) => [row.id as string, { message: toRecord(row), sessionConfig: asJson<Record<string, unknown> | null>(row.session_config) ?? undefined }]),
    );
  }

  /**
   * Server acks, many at once (see StatusWriter). A receipt may have arrived
   * first: the status then stays ahead, only the `sent` time is added. Ids
   * must be distinct; the result holds the rows that changed, by id.
   */
  async markSentMany(acks: ReadonlyArray<{ id: string; ackAt: Date }>): Promise<Map<string, MessageRecord>> {
    if (acks.length === 0) return new Map();
    const rows = await MARK_SENT.rows<Row>(this.dataSource, [JSON.stringify(acks.map((a) => ({ k_id: a.id, k_stamp: { sent: a.ackAt.toISOString() }, k_ack_at: a.ackAt.toISOString() })))]);
    return new Map(rows.map((row) => [row.id as string, toRecord(row)]));
  }

  markRetrying(id: string, error: MessageError, at = new Date()): Promise<MessageRecord | undefined> {
    return this.one(
      `UPDATE messages SET status = 'retrying', error = $2::jsonb, status_times = status_times || $3::jsonb, updated_at = $4
       WHERE id = $1 AND status IN ('queued', 'sending', 'retrying') RETURNING ${COLUMNS}`,
      [id, JSON.stringify(error), stamp('retrying', at), at],
    );
  }

  /** Terminal failure: the message enters the dead-letter queue. */
  markFailed(id: string, error: MessageError, at = new Date()): Promise<MessageRecord | undefined> {
    return this.one(
      `UPDATE messages SET status = 'failed', error = $2::jsonb, dead_lettered_at = $4, status_times = status_times || $3::jsonb, updated_at = $4
       WHERE id = $1 AND status IN ('queued', 'sending', 'retrying') RETURNING ${COLUMNS}`,
      [id, JSON.stringify(error), stamp('failed', at), at],
    );
  }

  /** A server error ack after the message was already acknowledged. */
  markFailedAfterAck(sessionId: string, waMessageId: string, error: MessageError, at: Date): Promise<MessageRecord | undefined> {
    return this.one(
      `UPDATE messages SET status = 'failed', error = $3::jsonb, dead_lettered_at = $5, status_times = status_times || $4::jsonb, updated_at = $5
       WHERE session_id = $1 AND wa_message_id = $2 AND direction = 'out' AND status IN ('sending', 'sent') RETURNING ${COLUMNS}`,
      [sessionId, waMessageId, JSON.stringify(error), stamp('failed', at), at],
    );
  }

  /**
   * Receipts, many at once (see StatusWriter): each moves its message forward
   * only, recording the time of the statuses it implies (a `read` before the
   * ack also records `sent` and `delivered`) without overwriting times already
   * known. A receipt proves delivery, so it also takes a failed message out of
   * the dead-letter queue. One receipt per message per call; the result holds
   * the rows that changed, by `deliveryKey`.
   */
  async advanceDeliveryMany(receipts: ReadonlyArray<DeliveryReceipt>): Promise<Map<string, MessageRecord>> {
    if (receipts.length === 0) return new Map();
    const rows = await ADVANCE_DELIVERY.rows<Row>(this.dataSource, [
      JSON.stringify(
        receipts.map((r) => ({
          k_session: r.sessionId,
          k_wa_id: r.waMessageId,
          k_status: r.status,
          k_implied: Object.fromEntries(impliedDeliveryStatuses(r.status).map((s) => [s, r.at.toISOString()])),
          k_stamp: { [r.status]: r.at.toISOString() },
          k_rank: ['sent', 'delivered', 'read', 'played'].indexOf(r.status) + 2,
        })),
      ),
    ]);
    return new Map(rows.map((row) => [deliveryKey(row.session_id as string, row.wa_message_id as string), toRecord(row)]));
  }

  /** Takes a message out of the dead-letter queue for another round of attempts, same messageId and WhatsApp id. */
  requeueDeadLetter(id: string, at = new Date()): Promise<MessageRecord | undefined> {
    return this.one(
      `UPDATE messages SET status = 'queued', attempts = 0, error = NULL, dead_lettered_at = NULL, replays = replays + 1,
         status_times = (status_times - 'failed' - 'retrying' - 'sending') || $2::jsonb, updated_at = $3
       WHERE id = $1 AND status = 'failed' AND dead_lettered_at IS NOT NULL RETURNING ${COLUMNS}`,
      [id, stamp('queued', at), at],
    );
  }

  /** Records the job of the current round when a replay had to enqueue a new one. */
  async setJobId(id: string, jobId: string): Promise<void> {
    await this.dataSource.query(`UPDATE messages SET job_id = $2 WHERE id = $1`, [id, jobId]);
  }

  /** Leaves the dead-letter queue for good; the row stays `failed` for audit. */
  async discardDeadLetter(id: string): Promise<boolean> {
    const rows = await queryRows(this.dataSource, `UPDATE messages SET dead_lettered_at = NULL, updated_at = now() WHERE id = $1 AND dead_lettered_at IS NOT NULL RETURNING id`, [id]);
    return rows.length > 0;
  }

  /** Dead letters with this messageId (on one connection, or on every one). */
  findDeadLetters(messageId: string, sessionId?: string): Promise<MessageRecord[]> {
    return sessionId
      ? this.many(`SELECT ${COLUMNS} FROM messages WHERE message_id = $1 AND session_id = $2 AND dead_lettered_at IS NOT NULL`, [messageId, sessionId])
      : this.many(`SELECT ${COLUMNS} FROM messages WHERE message_id = $1 AND dead_lettered_at IS NOT NULL LIMIT 20`, [messageId]);
  }

  /** Keyset page in creation order. */
  async page(sessionId: string | undefined, filters: MessageFilters & { deadLetters?: boolean }, limit: number, after?: Cursor): Promise<Page<MessageRecord>> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (sessionId) add('session_id = ?', sessionId);
    if (filters.direction) add('direction = ?', filters.direction);
    if (filters.status) add('status = ?', filters.status);
    if (filters.chat) add('chat = ?', filters.chat);
    if (filters.since) add('created_at >= ?', filters.since);
    if (filters.deadLetters) where.push('dead_lettered_at IS NOT NULL');
    if (after) {
      params.push(after.createdAt, after.id);
      where.push(`(created_at, id) > ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(limit + 1);
    const rows = await this.many(
      `SELECT ${COLUMNS} FROM messages ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? { createdAt: last.cursorTime, id: last.id } : null };
  }

  /** Outgoing messages still waiting to be sent that nobody touched for a while: the reconciler checks they have a job. */
  unfinished(olderThan: Date, limit: number): Promise<MessageRecord[]> {
    return this.many(
      `SELECT ${COLUMNS} FROM messages WHERE direction = 'out' AND status IN ('queued', 'retrying', 'sending') AND updated_at < $1 ORDER BY updated_at LIMIT $2`,
      [olderThan, limit],
    );
  }
}

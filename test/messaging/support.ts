import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SendError, SessionGateway, type OutgoingMessage, type SendOptions } from '../../libs/contracts/src';
import type { DomainEvent } from '../../libs/events/src';
import { EventBus } from '../../libs/events/src';
import { MessagingWorker, SessionGatewayRef } from '../../libs/messaging/src';
import { authHeaders, startGateway, type InProcessGateway } from '../support/gateway';

export interface SendCall {
  sessionId: string;
  message: OutgoingMessage;
  waMessageId: string;
  at: number;
  /** When the message counted as written to the socket (`onWritten`). */
  writtenAt?: number;
}

/** Outcome of one send: an ack, or a SendError to throw. */
export type Outcome = 'ack' | SendError;

/**
 * A SessionGateway played by the test: every send is recorded and answered
 * from a per-recipient script (ack when the script is empty).
 */
export class ScriptedSessionGateway extends SessionGateway {
  readonly calls: SendCall[] = [];
  connected = true;
  /** Runs inside `send`, before the ack (e.g. a receipt that overtakes the ack). */
  beforeAck?: (call: SendCall) => Promise<void>;
  /** Runs inside `send`, before the message counts as written (e.g. a slow first send: device lookup, session setup). */
  beforeWrite?: (call: SendCall) => Promise<void>;
  private readonly scripts = new Map<string, Outcome[]>();

  script(to: string, outcomes: Outcome[]): void {
    this.scripts.set(to, [...outcomes]);
  }

  async send(sessionId: string, message: OutgoingMessage, waMessageId: string, options: SendOptions = {}): Promise<{ ackAt: Date }> {
    const call: SendCall = { sessionId, message, waMessageId, at: Date.now() };
    this.calls.push(call);
    const outcome = this.scripts.get(message.to)?.shift() ?? 'ack';
    if (outcome !== 'ack') throw outcome;
    await this.beforeWrite?.(call);
    call.writtenAt = Date.now();
    options.onWritten?.();
    await this.beforeAck?.(call);
    return { ackAt: new Date() };
  }

  async waitUntilConnected(): Promise<boolean> {
    return this.connected;
  }

  callsTo(to: string): SendCall[] {
    return this.calls.filter((c) => c.message.to === to);
  }
}

/** Settings that make the pipeline quick to observe: no default pacing, 3 attempts 50 ms apart. */
export const FAST_PIPELINE_ENV = {
  SEND_PACING_MESSAGES_PER_MINUTE: '0',
  SEND_PACING_MIN_GAP_PER_RECIPIENT_MS: '0',
  SEND_MAX_ATTEMPTS: '3',
  SEND_RETRY_BASE_DELAY_MS: '50',
  SEND_CONNECT_WAIT_MS: '100',
  SEND_WAIT_TIMEOUT_MS: '5000',
  MESSAGE_RECONCILE_INTERVAL_MS: '3600000',
  RATE_LIMIT_MAX: '100000',
};

export class MessagingHarness {
  readonly gateway = new ScriptedSessionGateway();
  readonly events: DomainEvent[] = [];
  private unsubscribe = () => {};

  constructor(readonly gw: InProcessGateway) {
    gw.app.get(SessionGatewayRef).use(this.gateway);
    this.unsubscribe = gw.app.get(EventBus).subscribe((event) => this.events.push(event));
  }

  static async start(env: Record<string, string>): Promise<MessagingHarness> {
    return new MessagingHarness(await startGateway({ ...FAST_PIPELINE_ENV, ...env }));
  }

  get url() {
    return this.gw.url;
  }

  get dataSource(): DataSource {
    return this.gw.app.get(DataSource);
  }

  get worker(): MessagingWorker {
    return this.gw.app.get(MessagingWorker);
  }

  /**
   * A connection made in the database with desired state `stopped`, so no
   * session runtime tries to open a socket for it; the test plays the socket.
   */
  async connection(options: { status?: string; config?: Record<string, unknown> } = {}): Promise<string> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `INSERT INTO sessions (label, status, desired_state, config) VALUES ($1, $2, 'stopped', $3::jsonb) RETURNING id`,
      [`messaging-${randomUUID().slice(0, 8)}`, options.status ?? 'connected', JSON.stringify(options.config ?? {})],
    );
    return rows[0].id;
  }

  async scopedKey(sessionId: string): Promise<string> {
    const response = await fetch(`${this.url}/api-keys`, { method: 'POST', headers: { ...authHeaders(), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'scoped', role: 'connection', sessionId }) });
    if (response.status !== 201) throw new Error(`creating a scoped key: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { key: string }).key;
  }

  send(sessionId: string, body: unknown, options: { key?: string; query?: string } = {}) {
    return this.request('POST', `/connections/${sessionId}/send${options.query ?? ''}`, body, options.key);
  }

  async request(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; headers: Headers; body: any }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...authHeaders(key), ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the assertion message.
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  message(sessionId: string, messageId: string) {
    return this.request('GET', `/connections/${sessionId}/messages/${encodeURIComponent(messageId)}`);
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.gw.close();
  }
}

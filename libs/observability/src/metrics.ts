import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric the product exposes, declared once. Libraries take the
 * instance they need from `Metrics`; nothing creates metrics elsewhere, so the
 * names in API.md cannot drift.
 */
export class Metrics {
  readonly registry: Registry;
  readonly jobsProcessed: Counter<'queue'>;
  readonly jobsFailed: Counter<'queue' | 'final'>;
  readonly queueSize: Gauge<'queue' | 'state'>;
  readonly socketStatus: Gauge<'session' | 'status'>;
  readonly messagesSent: Counter<'type'>;
  readonly messagesFailed: Counter<'code'>;
  readonly webhookDeliveries: Counter<'result'>;
  readonly reconnects: Counter<'reason'>;
  readonly reportWriteFailures: Counter<'kind' | 'final'>;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  readonly sendWriteDuration: Histogram<'stage'>;
  readonly sendWriteRows: Histogram;

  constructor(registry = new Registry(), { defaultMetrics = true } = {}) {
    this.registry = registry;
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
    const registers = [registry];
    this.jobsProcessed = new Counter({ name: 'jobs_processed_total', help: 'Jobs that completed successfully', labelNames: ['queue'], registers });
    this.jobsFailed = new Counter({ name: 'jobs_failed_total', help: 'Job attempts that failed (final=true when the job became a dead letter)', labelNames: ['queue', 'final'], registers });
    this.queueSize = new Gauge({ name: 'queue_size', help: 'Jobs per queue and state', labelNames: ['queue', 'state'], registers });
    this.socketStatus = new Gauge({ name: 'socket_status', help: '1 for the current status of each session socket owned by this process', labelNames: ['session', 'status'], registers });
    this.messagesSent = new Counter({ name: 'messages_sent_total', help: 'Messages acknowledged by WhatsApp', labelNames: ['type'], registers });
    this.messagesFailed = new Counter({ name: 'messages_failed_total', help: 'Messages that ended failed (dead letter)', labelNames: ['code'], registers });
    this.webhookDeliveries = new Counter({ name: 'webhook_deliveries_total', help: 'Webhook delivery attempts by result', labelNames: ['result'], registers });
    this.reconnects = new Counter({ name: 'reconnects_total', help: 'Socket reconnects by reason', labelNames: ['reason'], registers });
    this.reportWriteFailures = new Counter({
      name: 'whatsapp_report_write_failures_total',
      help: 'Failed attempts to store what WhatsApp reported (kind=incoming|status; final=true when it was given up and is lost)',
      labelNames: ['kind', 'final'],
      registers,
    });
    this.httpRequestDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    // Where accepting a send waits: accepted sends are written in shared batches, rows and jobs together.
    this.sendWriteDuration = new Histogram({
      name: 'send_accept_write_seconds',
      help: 'Duration of one shared write of accepted sends, by stage (store: the message rows and their jobs)',
      labelNames: ['stage'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.sendWriteRows = new Histogram({
      name: 'send_accept_write_rows',
      help: 'Accepted sends per shared write',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200],
      registers,
    });
  }
}

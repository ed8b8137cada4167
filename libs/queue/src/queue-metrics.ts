import type { Metrics } from '../../observability/src/metrics';
import { JOB_STATES, type QueueCounts } from './message-queue';

/**
 * The job lifecycle as metrics, shared by both drivers so the series are the
 * same whatever the backend. A no-op when the app gave no `Metrics`.
 */
export class QueueMetrics {
  constructor(private readonly metrics?: Metrics) {}

  completed(queue: string): void {
    this.metrics?.jobsProcessed.inc({ queue });
  }

  failed(queue: string, final: boolean): void {
    this.metrics?.jobsFailed.inc({ queue, final: String(final) });
  }

  sizes(queue: string, counts: QueueCounts): void {
    if (!this.metrics) return;
    for (const state of JOB_STATES) this.metrics.queueSize.set({ queue, state }, counts[state]);
  }

  get enabled(): boolean {
    return this.metrics !== undefined;
  }
}

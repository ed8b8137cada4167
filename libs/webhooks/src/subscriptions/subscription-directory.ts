import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { DomainEvent } from '../../../events/src/domain-event';
import { queryRows } from '../../../persistence/src/query-rows';

/**
 * How long this process trusts its copy of the subscriptions. Changes made
 * here invalidate it at once; a subscription created or re-enabled through
 * another process (distributed mode) is seen within this time.
 */
export const SUBSCRIPTION_CACHE_TTL_MS = 1000;

/** Event types a group of subscriptions wants; `all` when one of them takes every type. */
type Wanted = Set<string> | 'all';

interface Snapshot {
  global: Wanted | null;
  bySession: Map<string, Wanted>;
}

/**
 * Which events have a subscriber at all, from an in-memory copy of the active
 * subscriptions, so an event nobody subscribed to costs no statement. It only
 * decides whether to write: the fan-out statement matches subscriptions in the
 * database, so a copy that is a little behind can cause an extra statement
 * that writes nothing, never a delivery to a removed subscription.
 */
@Injectable()
export class SubscriptionDirectory {
  private snapshot: Snapshot | null = null;
  private loadedAt = 0;
  private loading: Promise<Snapshot> | null = null;
  private generation = 0;

  constructor(private readonly dataSource: DataSource) {}

  /** Called after every change made in this process. */
  invalidate(): void {
    this.generation++;
    this.snapshot = null;
    this.loading = null;
  }

  /** Whether some active subscription may want the event. */
  async mayMatch(event: Pick<DomainEvent, 'type' | 'sessionId'>): Promise<boolean> {
    const snapshot = await this.current();
    return wants(snapshot.global, event.type) || wants(snapshot.bySession.get(event.sessionId) ?? null, event.type);
  }

  private current(): Promise<Snapshot> | Snapshot {
    if (this.snapshot && Date.now() - this.loadedAt < SUBSCRIPTION_CACHE_TTL_MS) return this.snapshot;
    return (this.loading ??= this.load());
  }

  private async load(): Promise<Snapshot> {
    const generation = this.generation;
    const startedAt = Date.now();
    try {
      const rows = await queryRows<{ session_id: string | null; events: string[] | string }>(
        this.dataSource,
        `SELECT session_id::text AS session_id, events FROM webhook_subscriptions WHERE state = 'active'`,
      );
      const snapshot: Snapshot = { global: null, bySession: new Map() };
      for (const row of rows) {
        const events = parseTextArray(row.events);
        if (row.session_id === null) snapshot.global = merge(snapshot.global, events);
        else snapshot.bySession.set(row.session_id, merge(snapshot.bySession.get(row.session_id) ?? null, events));
      }
      // A change made here while loading may be missing from these rows: answer with them once, keep nothing.
      if (generation === this.generation) {
        this.snapshot = snapshot;
        this.loadedAt = startedAt;
      }
      return snapshot;
    } finally {
      if (generation === this.generation) this.loading = null;
    }
  }
}

function wants(wanted: Wanted | null, type: string): boolean {
  return wanted === 'all' || (wanted !== null && wanted.has(type));
}

function merge(wanted: Wanted | null, events: string[]): Wanted {
  if (wanted === 'all' || events.length === 0) return 'all';
  const merged = new Set(wanted ?? []);
  for (const type of events) merged.add(type);
  return merged;
}

/** pg parses text[] into an array; a driver that does not hands over the `{a,b}` literal. */
function parseTextArray(value: string[] | string | null): string[] {
  if (Array.isArray(value)) return value;
  if (!value || value === '{}') return [];
  return value
    .replace(/^\{|\}$/g, '')
    .split(',')
    .map((part) => part.replace(/^"|"$/g, ''));
}

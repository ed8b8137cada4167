import { Injectable, Logger } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { AppConfig } from '../../../config/src';
import { type Cursor, encodeCursor } from '../../../http/src/cursor';
import { generateSecret } from '../delivery/signing';
import { WebhookSubscriptionEntity } from '../entities/webhook-subscription.entity';
import { ForbiddenTargetError, WebhookUrlGuard } from '../guard/url-guard';
import { queryRows } from '../../../persistence/src/query-rows';
import { WebhooksException } from '../webhooks.exception';
import { SecretBox } from './secret-box';
import { SubscriptionDirectory } from './subscription-directory';

/** Opened secrets kept at most; beyond it the memo starts over (a rotation leaves the old sealed form behind). */
const OPENED_SECRETS_MAX = 10_000;

export interface NewSubscription {
  url: string;
  /** Event types; empty or `*` means all. */
  events: string[];
  sessionId?: string;
}

/**
 * Webhook subscriptions: the global ones (POST /webhooks) and the implicit one
 * behind each connection's webhookUrl. Secrets are generated here, stored
 * sealed, and shown once.
 */
@Injectable()
export class SubscriptionsService {
  private readonly logger = new Logger('Webhooks');
  private readonly box: SecretBox;
  /** Sealed form -> secret. A sealed value never changes meaning (a new secret is a new sealed value), so no invalidation is needed. */
  private readonly opened = new Map<string, string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly guard: WebhookUrlGuard,
    private readonly config: AppConfig,
    private readonly directory: SubscriptionDirectory,
  ) {
    if (!config.credentialsKey) throw new Error('webhook secrets need AppConfig.credentialsKey');
    this.box = new SecretBox(config.credentialsKey);
  }

  private get repository() {
    return this.dataSource.getRepository(WebhookSubscriptionEntity);
  }

  /** The SSRF guard at subscription time: a 400 problem naming why. */
  async assertUrlAllowed(url: string): Promise<void> {
    try {
      await this.guard.check(url);
    } catch (error) {
      if (error instanceof ForbiddenTargetError) throw WebhooksException.urlForbidden(url, error.reason);
      throw error;
    }
  }

  async create(input: NewSubscription): Promise<{ subscription: WebhookSubscriptionEntity; secret: string }> {
    await this.assertUrlAllowed(input.url);
    if (input.sessionId && !(await this.sessionExists(input.sessionId))) throw WebhooksException.sessionNotFound(input.sessionId);
    return this.insert({ kind: 'global', url: input.url, events: normaliseEvents(input.events), sessionId: input.sessionId ?? null });
  }

  /** A new active subscription with a fresh secret (returned once, stored sealed). */
  private async insert(fields: Pick<WebhookSubscriptionEntity, 'kind' | 'url' | 'events' | 'sessionId'>): Promise<{ subscription: WebhookSubscriptionEntity; secret: string }> {
    const secret = generateSecret();
    const now = new Date();
    const subscription = await this.repository.save(
      this.repository.create({
        ...fields,
        secretSealed: this.box.seal(secret),
        previousSecretSealed: null,
        previousSecretExpiresAt: null,
        state: 'active',
        disabledReason: null,
        disabledAt: null,
        failingSince: null,
        createdAt: now,
        updatedAt: now,
      }),
    );
    this.directory.invalidate();
    return { subscription, secret };
  }

  async get(id: string): Promise<WebhookSubscriptionEntity> {
    const subscription = await this.repository.findOne({ where: { id } });
    if (!subscription) throw WebhooksException.notFound(id);
    return subscription;
  }

  async page(limit: number, after?: Cursor, sessionId?: string): Promise<{ items: WebhookSubscriptionEntity[]; nextCursor: string | null }> {
    const query = this.repository.createQueryBuilder('w').orderBy('w.created_at', 'ASC').addOrderBy('w.id', 'ASC').limit(limit + 1);
    if (after) query.andWhere('(w.created_at, w.id) > (:createdAt, :id)', after);
    if (sessionId) query.andWhere('w.session_id = :sessionId', { sessionId });
    const rows = await query.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null };
  }

  async remove(id: string): Promise<void> {
    const subscription = await this.get(id);
    if (subscription.kind === 'connection') throw WebhooksException.managedByConnection(id, subscription.sessionId!);
    await this.repository.delete({ id });
    this.directory.invalidate();
  }

  /** A new secret; the old one keeps signing (as a second signature) during the overlap window. */
  async rotateSecret(id: string): Promise<{ secret: string; previousSecretExpiresAt: Date }> {
    const subscription = await this.get(id);
    const secret = generateSecret();
    const previousSecretExpiresAt = new Date(Date.now() + this.config.webhookDelivery.secretOverlapMs);
    await this.repository.update(
      { id },
      { secretSealed: this.box.seal(secret), previousSecretSealed: subscription.secretSealed, previousSecretExpiresAt, updatedAt: new Date() },
    );
    return { secret, previousSecretExpiresAt };
  }

  /** Turns a disabled subscription back on; its disabled deliveries can then be replayed. */
  async enable(id: string): Promise<WebhookSubscriptionEntity> {
    await this.get(id);
    await this.repository.update({ id }, { state: 'active', disabledReason: null, disabledAt: null, failingSince: null, updatedAt: new Date() });
    this.directory.invalidate();
    return this.get(id);
  }

  /** The secrets that sign a delivery now: the current one, and the previous one during a rotation's overlap. */
  secretsOf(subscription: Pick<WebhookSubscriptionEntity, 'secretSealed' | 'previousSecretSealed' | 'previousSecretExpiresAt'>, now = Date.now()): string[] {
    const secrets = [this.open(subscription.secretSealed)];
    if (subscription.previousSecretSealed && subscription.previousSecretExpiresAt && subscription.previousSecretExpiresAt.getTime() > now) {
      secrets.push(this.open(subscription.previousSecretSealed));
    }
    return secrets;
  }

  /** AES-GCM once per sealed secret, not once per delivery. */
  private open(sealed: string): string {
    let secret = this.opened.get(sealed);
    if (secret === undefined) {
      if (this.opened.size >= OPENED_SECRETS_MAX) this.opened.clear();
      secret = this.box.open(sealed);
      this.opened.set(sealed, secret);
    }
    return secret;
  }

  /**
   * Creates, updates or removes a connection's implicit subscription. A new
   * secret is returned only when the subscription is created; a new URL keeps
   * the secret (and re-enables a disabled subscription).
   */
  async configureConnection(sessionId: string, url: string | null): Promise<{ secret?: string }> {
    if (url === null) {
      await this.repository.delete({ sessionId, kind: 'connection' });
      this.directory.invalidate();
      return {};
    }
    await this.assertUrlAllowed(url);
    const existing = await this.repository.findOne({ where: { sessionId, kind: 'connection' } });
    if (existing) {
      await this.repository.update({ id: existing.id }, { url, state: 'active', disabledReason: null, disabledAt: null, failingSince: null, updatedAt: new Date() });
      this.directory.invalidate();
      return {};
    }
    const { secret } = await this.insert({ kind: 'connection', url, events: [], sessionId });
    return { secret };
  }

  /**
   * Disables a subscription (410 Gone, or failing for too long), parks its
   * pending deliveries as `disabled`, and records a `webhook.disabled` entry in
   * the audit trail. Returns false when it was already disabled.
   */
  /**
   * `failingSince`: disable only if the run of failures that began then is
   * still the current one. An enable (or a success) in the meantime ends that
   * run, so a failure observed before it cannot switch the endpoint off again.
   */
  async disable(subscription: Pick<WebhookSubscriptionEntity, 'id' | 'sessionId' | 'url' | 'kind'>, reason: string, { failingSince }: { failingSince?: Date } = {}): Promise<boolean> {
    const changed = await this.dataSource.transaction(async (manager: EntityManager) => {
      // The stored time has microseconds, the one read back milliseconds: the same run started within that millisecond.
      const sameRun = failingSince ? `AND failing_since IS NOT NULL AND failing_since < $3::timestamptz + interval '1 millisecond'` : '';
      const rows = await queryRows(
        manager,
        `UPDATE webhook_subscriptions SET state = 'disabled', disabled_reason = $2, disabled_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'active' ${sameRun} RETURNING id`,
        failingSince ? [subscription.id, reason, failingSince] : [subscription.id, reason],
      );
      if (rows.length === 0) return false;
      await manager.query(`UPDATE webhook_deliveries SET state = 'disabled', next_attempt_at = NULL, updated_at = now() WHERE subscription_id = $1 AND state = 'pending'`, [
        subscription.id,
      ]);
      await manager.query(`INSERT INTO events (session_id, type, detail) VALUES ($1, 'webhook.disabled', $2)`, [
        subscription.sessionId,
        { subscriptionId: subscription.id, kind: subscription.kind, url: subscription.url, reason },
      ]);
      return true;
    });
    if (changed) this.directory.invalidate();
    if (changed) this.logger.warn({ subscriptionId: subscription.id, sessionId: subscription.sessionId, url: subscription.url, reason }, `webhook.disabled: ${subscription.url} (${reason})`);
    return changed;
  }

  private async sessionExists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(`SELECT 1 FROM sessions WHERE id = $1 AND deleted_at IS NULL`, [id]);
    return rows.length > 0;
  }
}

/** `*` or nothing means every event; stored as the empty list. */
export function normaliseEvents(events: readonly string[] | undefined): string[] {
  if (!events || events.length === 0 || events.includes('*')) return [];
  return [...new Set(events)].sort();
}

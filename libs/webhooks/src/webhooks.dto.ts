import { PageQueryDto } from '../../http/src/page-query.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsUrl, IsUUID, MaxLength } from 'class-validator';
import { EVENT_TYPES } from '../../events/src/domain-event';
import type { EventType } from '../../events/src/domain-event';
import type { DeliveryRow } from './delivery/delivery-store';
import { DELIVERY_STATES } from './entities/webhook-delivery.entity';
import type { DeliveryState } from './entities/webhook-delivery.entity';
import type { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity';

const EVENT_FILTERS = [...EVENT_TYPES, '*'];
const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://app.example.com/webhooks/whatsapp' })
  @IsUrl(URL_OPTIONS)
  @MaxLength(2000)
  url: string;

  @ApiPropertyOptional({ description: 'Event types to deliver; empty or ["*"] means all', enum: EVENT_FILTERS, isArray: true, example: ['message.received'] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(EVENT_FILTERS.length)
  @IsIn(EVENT_FILTERS, { each: true })
  events?: string[];

  @ApiPropertyOptional({ description: 'Only this connection’s events; omitted: every connection’s' })
  @IsOptional()
  @IsUUID()
  sessionId?: string;
}

class PageQuery extends PageQueryDto {}

export class WebhookListQueryDto extends PageQuery {
  @ApiPropertyOptional({ description: 'Only subscriptions of this connection' })
  @IsOptional()
  @IsUUID()
  sessionId?: string;
}

export class DeliveryListQueryDto extends PageQuery {
  @ApiPropertyOptional({ enum: DELIVERY_STATES })
  @IsOptional()
  @IsIn(DELIVERY_STATES)
  state?: DeliveryState;
}

export class EventStreamQueryDto {
  @ApiPropertyOptional({ description: 'Comma-separated event types; omitted: all', example: 'message.received,message.status' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.split(',').map((t) => t.trim()).filter(Boolean) : value))
  @IsArray()
  @IsIn(EVENT_TYPES, { each: true })
  types?: EventType[];
}

export class WebhookView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['global', 'connection'], description: '`connection`: the webhookUrl of a connection' }) kind: string;
  @ApiProperty() url: string;
  @ApiProperty({ type: [String], description: 'Empty: every event type' }) events: string[];
  @ApiProperty({ nullable: true, type: String }) sessionId: string | null;
  @ApiProperty({ enum: ['active', 'disabled'] }) state: string;
  @ApiProperty({ nullable: true, type: String }) disabledReason: string | null;
  @ApiProperty({ nullable: true, type: String }) disabledAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static of(s: WebhookSubscriptionEntity): WebhookView {
    return {
      id: s.id,
      kind: s.kind,
      url: s.url,
      events: s.events,
      sessionId: s.sessionId,
      state: s.state,
      disabledReason: s.disabledReason,
      disabledAt: s.disabledAt?.toISOString() ?? null,
      createdAt: s.createdAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    };
  }
}

export class CreatedWebhookView extends WebhookView {
  @ApiProperty({ description: 'Signing secret (whsec_...), shown once' }) secret: string;
}

export class WebhookListView {
  @ApiProperty({ type: [WebhookView] }) items: WebhookView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class RotatedSecretView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'The new signing secret (whsec_...), shown once' }) secret: string;
  @ApiProperty({ description: 'Until then deliveries carry a signature with the previous secret too' }) previousSecretExpiresAt: string;
}

export class DeliveryView {
  @ApiProperty() id: string;
  @ApiProperty({ description: 'Also the webhook-id header' }) eventId: string;
  @ApiProperty() eventType: string;
  @ApiProperty() sessionId: string;
  @ApiProperty({ enum: DELIVERY_STATES }) state: DeliveryState;
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String }) nextAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: String }) lastAttemptAt: string | null;
  @ApiProperty({ nullable: true, type: Number }) lastStatusCode: number | null;
  @ApiProperty({ nullable: true, type: String, description: 'First ~1 KB of the last response' }) responseExcerpt: string | null;
  @ApiProperty({ nullable: true, type: String }) error: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) deliveredAt: string | null;

  static of(d: DeliveryRow): DeliveryView {
    return {
      id: d.id,
      eventId: d.eventId,
      eventType: d.eventType,
      sessionId: d.sessionId,
      state: d.state,
      attempts: d.attempts,
      nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
      lastAttemptAt: d.lastAttemptAt?.toISOString() ?? null,
      lastStatusCode: d.lastStatusCode,
      responseExcerpt: d.responseExcerpt,
      error: d.error,
      createdAt: d.createdAt.toISOString(),
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
    };
  }
}

export class DeliveryListView {
  @ApiProperty({ type: [DeliveryView] }) items: DeliveryView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

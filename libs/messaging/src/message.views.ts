import { PageQueryDto } from '../../http/src/page-query.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { MESSAGE_STATUSES, type MessageStatus } from './message-status';
import type { MessageRecord } from './messages.repository';

const LIFECYCLE: readonly MessageStatus[] = ['received', 'queued', 'sending', 'retrying', 'sent', 'delivered', 'read', 'played', 'failed'];

class StatusTimeView {
  @ApiProperty() status: string;
  @ApiProperty() at: string;
}

class MessageErrorView {
  @ApiProperty() code: string;
  @ApiProperty() message: string;
}

/** Inline media bytes are never echoed back: only their size. */
function contentView(record: MessageRecord): Record<string, unknown> {
  const content = (record.direction === 'out' ? record.payload.content : record.payload) as Record<string, unknown> | undefined;
  const media = content?.media as Record<string, unknown> | undefined;
  if (!media || typeof media.base64 !== 'string') return content ?? {};
  const { base64, ...rest } = media;
  return { ...content, media: { ...rest, base64Bytes: Math.floor(((base64 as string).length * 3) / 4) } };
}

export class MessageView {
  @ApiProperty() messageId: string;
  @ApiProperty() sessionId: string;
  @ApiProperty({ enum: ['in', 'out'] }) direction: 'in' | 'out';
  @ApiProperty() to: string;
  @ApiProperty({ nullable: true, type: String }) from: string | null;
  @ApiProperty({ nullable: true, type: String }) chat: string | null;
  @ApiProperty() type: string;
  @ApiProperty({ type: Object, description: 'What was sent (base64 media reduced to its size) or received' }) content: Record<string, unknown>;
  @ApiProperty({ enum: MESSAGE_STATUSES }) status: MessageStatus;
  @ApiProperty({ type: Object, description: 'One ISO time per status reached' }) statusTimes: Record<string, string>;
  @ApiProperty({ type: [StatusTimeView], description: 'The statuses reached, in time order' }) statusHistory: StatusTimeView[];
  @ApiProperty() attempts: number;
  @ApiProperty({ nullable: true, type: String }) waMessageId: string | null;
  @ApiProperty({ nullable: true, type: MessageErrorView }) error: MessageErrorView | null;
  @ApiPropertyOptional({ nullable: true, type: String }) quotedMessageId: string | null;
  @ApiProperty({ nullable: true, type: String }) scheduledAt: string | null;
  @ApiProperty({ description: 'True while the message is in the dead-letter queue' }) deadLettered: boolean;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static of(r: MessageRecord): MessageView {
    return {
      messageId: r.messageId,
      sessionId: r.sessionId,
      direction: r.direction,
      to: r.to,
      from: r.from,
      chat: r.chat,
      type: r.type,
      content: contentView(r),
      status: r.status,
      statusTimes: r.statusTimes,
      statusHistory: Object.entries(r.statusTimes)
        .map(([status, at]) => ({ status, at }))
        // Equal times (a `read` that implies `delivered`) keep the lifecycle order.
        .sort((a, b) => a.at.localeCompare(b.at) || LIFECYCLE.indexOf(a.status as MessageStatus) - LIFECYCLE.indexOf(b.status as MessageStatus)),
      attempts: r.attempts,
      waMessageId: r.waMessageId,
      error: r.error,
      quotedMessageId: (r.payload.quotedMessageId as string | undefined) ?? null,
      scheduledAt: r.scheduledAt?.toISOString() ?? null,
      deadLettered: r.deadLetteredAt !== null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    };
  }
}

export class MessageListView {
  @ApiProperty({ type: [MessageView] }) items: MessageView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export { PageQueryDto };

export class MessageListQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: ['in', 'out'] })
  @IsOptional()
  @IsIn(['in', 'out'])
  direction?: 'in' | 'out';

  @ApiPropertyOptional({ enum: MESSAGE_STATUSES })
  @IsOptional()
  @IsIn(MESSAGE_STATUSES)
  status?: MessageStatus;

  @ApiPropertyOptional({ description: 'Chat JID (or phone number digits)' })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  chat?: string;

  @ApiPropertyOptional({ description: 'Only messages created at or after this ISO time' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'since must be an ISO 8601 time' })
  since?: string;
}

export class DeadLetterQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Only this connection (a scoped key always sees only its own)' })
  @IsOptional()
  @IsUUID('all', { message: 'sessionId must be a connection id' })
  sessionId?: string;
}

export class DeadLetterTargetQueryDto {
  @ApiPropertyOptional({ description: 'The connection of the dead letter; needed when the messageId has dead letters on several connections' })
  @IsOptional()
  @IsUUID('all', { message: 'sessionId must be a connection id' })
  sessionId?: string;
}

export class DeadLetterView {
  @ApiProperty() messageId: string;
  @ApiProperty() sessionId: string;
  @ApiProperty() to: string;
  @ApiProperty() type: string;
  @ApiProperty({ nullable: true, type: MessageErrorView }) error: MessageErrorView | null;
  @ApiProperty() attempts: number;
  @ApiProperty() failedAt: string;
  @ApiProperty({ description: 'Times this message was already replayed' }) replays: number;
  @ApiProperty({ nullable: true, type: String }) waMessageId: string | null;

  static of(r: MessageRecord): DeadLetterView {
    return {
      messageId: r.messageId,
      sessionId: r.sessionId,
      to: r.to,
      type: r.type,
      error: r.error,
      attempts: r.attempts,
      failedAt: (r.deadLetteredAt ?? r.updatedAt).toISOString(),
      replays: r.replays,
      waMessageId: r.waMessageId,
    };
  }
}

export class DeadLetterListView {
  @ApiProperty({ type: [DeadLetterView] }) items: DeadLetterView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class ReplayedView {
  @ApiProperty() queued: boolean;
  @ApiProperty() messageId: string;
  @ApiProperty() sessionId: string;
  @ApiProperty() status: string;
}

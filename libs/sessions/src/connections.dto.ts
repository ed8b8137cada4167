import { PageQueryDto } from '../../http/src/page-query.dto';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsObject, IsOptional, IsString, IsUrl, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { SessionEntity } from '../../persistence/src';
import type { SessionStatus } from '../../persistence/src';

export class PacingConfigDto {
  @ApiPropertyOptional({ description: 'Sends per minute for this connection; 0 turns the limit off', example: 20 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(6000)
  messagesPerMinute?: number;

  @ApiPropertyOptional({ description: 'Minimum gap between two sends to the same recipient, ms; 0 turns it off', example: 3000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  minGapPerRecipientMs?: number;
}

export class ConnectionConfigDto {
  @ApiPropertyOptional({ type: PacingConfigDto })
  @IsOptional()
  @ValidateNested()
  @Type(() => PacingConfigDto)
  pacing?: PacingConfigDto;
}

const URL_OPTIONS = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };

export class CreateConnectionDto {
  @ApiPropertyOptional({ example: 'Loja A - 1', maxLength: 200 })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  label?: string;

  @ApiPropertyOptional({ example: 'https://app.example.com/webhook' })
  @IsOptional()
  @IsUrl(URL_OPTIONS)
  @MaxLength(2000)
  webhookUrl?: string;

  @ApiPropertyOptional({ type: ConnectionConfigDto })
  @IsOptional()
  @IsObject()
  @ValidateNested()
  @Type(() => ConnectionConfigDto)
  config?: ConnectionConfigDto;
}

export class UpdateConnectionDto extends CreateConnectionDto {}

export class ConnectionView {
  @ApiProperty() sessionId: string;
  @ApiProperty({ nullable: true, type: String }) label: string | null;
  @ApiProperty({ enum: ['created', 'connecting', 'qr', 'connected', 'reconnecting', 'logged_out', 'failed', 'stopped'] }) status: SessionStatus;
  @ApiProperty({ nullable: true, type: String }) phoneNumber: string | null;
  @ApiProperty({ nullable: true, type: String }) webhookUrl: string | null;
  @ApiProperty({ nullable: true, type: String }) lastSeen: string | null;
  @ApiProperty({ nullable: true, type: String }) statusReason: string | null;
  @ApiProperty({ type: Object }) config: Record<string, unknown>;
  @ApiProperty() createdAt: string;
  @ApiProperty() updatedAt: string;

  static of(s: SessionEntity): ConnectionView {
    return {
      sessionId: s.id,
      label: s.label,
      status: s.status,
      phoneNumber: s.phoneNumber,
      webhookUrl: s.webhookUrl,
      lastSeen: s.lastSeen?.toISOString() ?? null,
      statusReason: s.statusReason,
      config: s.config,
      createdAt: s.createdAt.toISOString(),
      updatedAt: s.updatedAt.toISOString(),
    };
  }
}

export class CreatedConnectionView {
  @ApiProperty() sessionId: string;
  @ApiProperty({ nullable: true, type: String }) label: string | null;
  @ApiProperty() status: SessionStatus;
  @ApiProperty() createdAt: string;
  @ApiPropertyOptional({ description: 'Signing secret for webhookUrl deliveries (whsec_...), shown once' }) webhookSecret?: string;
}

export class ConnectionListView {
  @ApiProperty({ type: [ConnectionView] }) items: ConnectionView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor: string | null;
}

export class ListQueryDto extends PageQueryDto {}

import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, IsUUID, MaxLength, ValidateIf } from 'class-validator';
import { ApiKeyEntity } from '../../persistence/src';
import type { ApiKeyRole } from '../../persistence/src';

export class CreateApiKeyDto {
  @ApiProperty({ example: 'billing-service', maxLength: 100 })
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  name: string;

  @ApiProperty({ enum: ['admin', 'connection'], description: 'admin: everything; connection: one connection only' })
  @IsIn(['admin', 'connection'])
  role: ApiKeyRole;

  @ApiPropertyOptional({ description: 'Required for role=connection: the connection this key may use' })
  @ValidateIf((o: CreateApiKeyDto) => o.role === 'connection' || o.sessionId !== undefined)
  @IsUUID()
  sessionId?: string;
}

export class ApiKeyView {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty({ enum: ['admin', 'connection'] }) role: ApiKeyRole;
  @ApiProperty({ nullable: true, type: String }) sessionId: string | null;
  @ApiProperty({ description: 'The first characters of the key, to tell keys apart' }) keyPrefix: string;
  @ApiProperty() createdAt: string;

  static of(entity: ApiKeyEntity): ApiKeyView {
    return { id: entity.id, name: entity.name, role: entity.role, sessionId: entity.sessionId, keyPrefix: entity.keyPrefix, createdAt: entity.createdAt.toISOString() };
  }
}

export class CreatedApiKeyView extends ApiKeyView {
  @ApiProperty({ description: 'The key itself: shown once, only its hash is stored' }) key: string;
}

export class ApiKeyListView {
  @ApiProperty({ type: [ApiKeyView] }) items: ApiKeyView[];
}

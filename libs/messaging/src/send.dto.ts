import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
  ValidateNested,
  registerDecorator,
  type ValidationArguments,
  type ValidationOptions,
} from 'class-validator';
import { RECIPIENT_RULE, normaliseRecipient } from './recipient';

export const SEND_TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'location', 'contact', 'reaction', 'poll'] as const;
export type SendType = (typeof SEND_TYPES)[number];
export const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;

type WithType = { type?: unknown };

/**
 * Discriminated validation by `type`: a member that belongs to other types is
 * refused with a message naming the types it belongs to. (class-validator's
 * `ValidateIf` would silently skip it instead.)
 */
function OnlyForTypes(types: readonly string[], options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'onlyForTypes',
      target: target.constructor,
      propertyName: property,
      options,
      validator: {
        validate: (value: unknown, args: ValidationArguments) => value === undefined || types.includes((args.object as WithType).type as string),
        defaultMessage: () => `${property} is only allowed when type is ${types.join(', ')}`,
      },
    });
}

/** Members checked when the type needs them or when they are present anyway (then `OnlyForTypes` says why they are wrong). */
const whenTypeIs = (types: readonly string[], property: string) => ValidateIf((o: Record<string, unknown>) => types.includes(o.type as string) || o[property] !== undefined);

function IsRecipient(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'isRecipient',
      target: target.constructor,
      propertyName: property,
      options,
      validator: {
        validate: (value: unknown) => typeof value === 'string' && normaliseRecipient(value) !== undefined,
        defaultMessage: () => `to must be ${RECIPIENT_RULE}`,
      },
    });
}

/** A poll's `selectableCount` cannot exceed its number of options. */
function AtMostOptions(options?: ValidationOptions) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'atMostOptions',
      target: target.constructor,
      propertyName: property,
      options,
      validator: {
        validate: (value: unknown, args: ValidationArguments) => {
          const pollOptions = (args.object as { options?: unknown }).options;
          return typeof value !== 'number' || !Array.isArray(pollOptions) || value <= pollOptions.length;
        },
        defaultMessage: () => `${property} must not exceed the number of options`,
      },
    });
}

/** Checks of a nested object as a whole (which member is missing), reported on the object's own field. */
function Satisfies(check: (value: Record<string, unknown>) => boolean, message: string) {
  return (target: object, property: string) =>
    registerDecorator({
      name: 'satisfies',
      target: target.constructor,
      propertyName: property,
      validator: {
        validate: (value: unknown) => value === null || typeof value !== 'object' || Array.isArray(value) || check(value as Record<string, unknown>),
        defaultMessage: () => `${property}: ${message}`,
      },
    });
}

const contactIdentified = (c: Record<string, unknown>) => c.vcard !== undefined || (c.fullName !== undefined && c.phoneNumber !== undefined);
const oneMediaSource = (m: Record<string, unknown>) => (m.url === undefined) !== (m.base64 === undefined);

export class MediaDto {
  @ApiPropertyOptional({ description: 'http(s) URL the worker downloads at send time', example: 'https://example.com/photo.jpg' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  @Matches(/^https?:\/\/[^\s/?#]+[^\s]*$/i, { message: 'url must be an http or https URL (or give base64 instead)' })
  url?: string;

  @ApiPropertyOptional({ description: 'The file itself, base64 (standard alphabet, no data: prefix)' })
  @IsOptional()
  @IsString()
  base64?: string;

  @ApiProperty({ example: 'image/jpeg' })
  @IsString()
  @MaxLength(255)
  mimetype: string;

  @ApiPropertyOptional({ example: 'invoice.pdf', maxLength: 255 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(255)
  filename?: string;
}

export class LocationDto {
  @ApiProperty({ minimum: -90, maximum: 90 }) @IsNumber() @Min(-90) @Max(90) latitude: number;
  @ApiProperty({ minimum: -180, maximum: 180 }) @IsNumber() @Min(-180) @Max(180) longitude: number;
  @ApiPropertyOptional({ maxLength: 1000 }) @IsOptional() @IsString() @MaxLength(1000) name?: string;
  @ApiPropertyOptional({ maxLength: 1000 }) @IsOptional() @IsString() @MaxLength(1000) address?: string;
}

export class ContactDto {
  @ApiPropertyOptional({ maxLength: 256 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(256)
  fullName?: string;

  @ApiPropertyOptional({ description: 'International format, digits with an optional leading +', example: '+5534999999999' })
  @IsOptional()
  @IsString()
  @Matches(/^\+?\d{6,15}$/, { message: 'phoneNumber must be digits with the country code, optionally prefixed by +' })
  phoneNumber?: string;

  @ApiPropertyOptional({ description: 'A complete vCard (instead of fullName + phoneNumber)', maxLength: 10000 })
  @IsOptional()
  @IsString()
  @Matches(/^BEGIN:VCARD[\s\S]*END:VCARD\s*$/, { message: 'vcard must be a vCard (BEGIN:VCARD ... END:VCARD)' })
  @MaxLength(10000)
  vcard?: string;
}

export class ReactionDto {
  @ApiProperty({ description: 'messageId (or WhatsApp id) of the message reacted to' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  targetMessageId: string;

  @ApiProperty({ description: 'One emoji; an empty string removes the reaction', example: '👍' })
  @IsString()
  @MaxLength(16)
  emoji: string;
}

export class PollDto {
  @ApiProperty({ maxLength: 255 }) @IsString() @IsNotEmpty() @MaxLength(255) name: string;

  @ApiProperty({ type: [String], minItems: 2, maxItems: 12, uniqueItems: true })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(12)
  @ArrayUnique()
  @IsString({ each: true })
  @IsNotEmpty({ each: true })
  @MaxLength(100, { each: true })
  options: string[];

  @ApiPropertyOptional({ description: 'How many options a voter may pick; 0 = any number', default: 1 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @AtMostOptions()
  selectableCount?: number;
}

const MEDIA = [...MEDIA_TYPES];

/** POST /connections/:id/send (API.md). */
export class SendMessageDto {
  @ApiProperty({ description: 'Idempotency key, unique per connection', example: '6f1c8e0a-5b7d-4b8a-9d6e-1f2a3b4c5d6e', maxLength: 128 })
  @IsString()
  @Matches(/^[A-Za-z0-9._:@-]{1,128}$/, { message: 'messageId must be 1 to 128 characters of letters, digits and . _ : @ -' })
  messageId: string;

  @ApiProperty({ description: RECIPIENT_RULE, example: '5534999999999@s.whatsapp.net' })
  @IsString()
  @IsRecipient()
  to: string;

  @ApiProperty({ enum: SEND_TYPES })
  @IsIn(SEND_TYPES, { message: `type must be one of ${SEND_TYPES.join(', ')}` })
  type: SendType;

  @ApiPropertyOptional({ description: 'type text: the text', maxLength: 65536 })
  @OnlyForTypes(['text'])
  @whenTypeIs(['text'], 'body')
  @IsDefined({ message: 'body is required when type is text' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(65536)
  body?: string;

  @ApiPropertyOptional({ type: MediaDto, description: 'type image/video/audio/document/sticker' })
  @OnlyForTypes(MEDIA)
  @whenTypeIs(MEDIA, 'media')
  @IsDefined({ message: `media is required when type is ${MEDIA.join(', ')}` })
  @IsObject()
  @Satisfies(oneMediaSource, 'give exactly one of url or base64')
  @ValidateNested()
  @Type(() => MediaDto)
  media?: MediaDto;

  @ApiPropertyOptional({ maxLength: 1024 })
  @OnlyForTypes(['image', 'video', 'document'])
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  caption?: string;

  @ApiPropertyOptional({ description: 'type audio: send as a voice note' })
  @OnlyForTypes(['audio'])
  @IsOptional()
  @IsBoolean()
  ptt?: boolean;

  @ApiPropertyOptional({ type: LocationDto })
  @OnlyForTypes(['location'])
  @whenTypeIs(['location'], 'location')
  @IsDefined({ message: 'location is required when type is location' })
  @IsObject()
  @ValidateNested()
  @Type(() => LocationDto)
  location?: LocationDto;

  @ApiPropertyOptional({ type: ContactDto })
  @OnlyForTypes(['contact'])
  @whenTypeIs(['contact'], 'contact')
  @IsDefined({ message: 'contact is required when type is contact' })
  @IsObject()
  @Satisfies(contactIdentified, 'give either vcard, or both fullName and phoneNumber')
  @ValidateNested()
  @Type(() => ContactDto)
  contact?: ContactDto;

  @ApiPropertyOptional({ type: ReactionDto })
  @OnlyForTypes(['reaction'])
  @whenTypeIs(['reaction'], 'reaction')
  @IsDefined({ message: 'reaction is required when type is reaction' })
  @IsObject()
  @ValidateNested()
  @Type(() => ReactionDto)
  reaction?: ReactionDto;

  @ApiPropertyOptional({ type: PollDto })
  @OnlyForTypes(['poll'])
  @whenTypeIs(['poll'], 'poll')
  @IsDefined({ message: 'poll is required when type is poll' })
  @IsObject()
  @ValidateNested()
  @Type(() => PollDto)
  poll?: PollDto;

  @ApiPropertyOptional({ description: 'messageId (or WhatsApp id) of the message this one replies to', maxLength: 128 })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(128)
  quotedMessageId?: string;

  @ApiPropertyOptional({ description: 'ISO 8601 time to send at (at most a year ahead); past times send now', example: '2030-01-01T12:00:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true, strictSeparator: true }, { message: 'scheduledAt must be an ISO 8601 date-time' })
  scheduledAt?: string;
}

export class SendQueryDto {
  @ApiPropertyOptional({ enum: ['sent'], description: 'Hold the response until WhatsApp acknowledged the message (or a timeout)' })
  @IsOptional()
  @IsIn(['sent'], { message: 'wait must be "sent"' })
  wait?: 'sent';
}

export class SendAcceptedView {
  @ApiProperty() queued: boolean;
  @ApiProperty() messageId: string;
  @ApiProperty({ enum: ['queued', 'sending', 'retrying', 'sent', 'delivered', 'read', 'played', 'failed'] }) status: string;
}

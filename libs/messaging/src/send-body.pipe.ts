import { Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';
import { createValidationPipe } from '../../http/src/validation';
import { normaliseRecipient } from './recipient';
import { SendMessageDto, SendQueryDto } from './send.dto';

const MESSAGE_ID = /^[A-Za-z0-9._:@-]{1,128}$/;
/** The members a plain text send may have (send.dto.ts); any other member takes the full validation. */
const PLAIN_TEXT_MEMBERS = new Set(['messageId', 'to', 'type', 'body', 'quotedMessageId']);
const BODY_MAX_LENGTH = 65536;
const QUOTED_MAX_LENGTH = 128;

/** An object as JSON.parse makes them (whatever realm it was made in), not an instance of some class. */
const isPlainObject = (value: object) => {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
};

const nonEmptyString = (value: unknown, max: number): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

/**
 * A text send that is valid beyond doubt, as the DTO it would become; undefined
 * for anything else, which then takes the full validation. Each check is as
 * strict as the DTO's rule or stricter (lengths in UTF-16 units, where the
 * DTO's count a surrogate pair once), so this never accepts what the full
 * validation refuses (send-body.pipe.spec.ts checks that over many bodies).
 */
export function plainTextSend(value: unknown): SendMessageDto | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) return undefined;
  const body = value as Record<string, unknown>;
  for (const key in body) if (!PLAIN_TEXT_MEMBERS.has(key)) return undefined;
  if (body.type !== 'text') return undefined;
  if (typeof body.messageId !== 'string' || !MESSAGE_ID.test(body.messageId)) return undefined;
  if (typeof body.to !== 'string' || normaliseRecipient(body.to) === undefined) return undefined;
  if (!nonEmptyString(body.body, BODY_MAX_LENGTH)) return undefined;
  if ('quotedMessageId' in body && !nonEmptyString(body.quotedMessageId, QUOTED_MAX_LENGTH)) return undefined;
  return Object.assign(new SendMessageDto(), body);
}

/**
 * The body of `POST /connections/:id/send`: most sends are plain text, and
 * for those the class-validator pass (a tenth of the gateway's CPU per send at
 * 1,000 req/s) is replaced by `plainTextSend`; every other body gets the
 * full validation with its problem document. The route's parameter is not
 * typed as the DTO, so the global validation pipe leaves it to this one.
 */
@Injectable()
export class SendBodyPipe implements PipeTransform<unknown, Promise<SendMessageDto>> {
  private readonly full = createValidationPipe(SendMessageDto);

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<SendMessageDto> {
    return plainTextSend(value) ?? ((await this.full.transform(value, metadata)) as SendMessageDto);
  }
}

/**
 * The query of `POST /connections/:id/send`: nearly always empty or
 * `wait=sent`, answered without the validation pass; anything else gets the
 * full validation (and its problem document).
 */
@Injectable()
export class SendQueryPipe implements PipeTransform<unknown, Promise<SendQueryDto>> {
  private readonly full = createValidationPipe(SendQueryDto);

  async transform(value: unknown, metadata: ArgumentMetadata): Promise<SendQueryDto> {
    if (typeof value === 'object' && value !== null && isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 0) return new SendQueryDto();
      if (keys.length === 1 && (value as { wait?: unknown }).wait === 'sent') return Object.assign(new SendQueryDto(), { wait: 'sent' as const });
    }
    return (await this.full.transform(value, metadata)) as SendQueryDto;
  }
}

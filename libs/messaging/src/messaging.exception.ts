import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

/** Codes of the messaging routes that ErrorCode does not already have. */
export enum MessagingErrorCode {
  MediaTooLarge = 'MEDIA_TOO_LARGE',
  DeadLetterNotFound = 'DEAD_LETTER_NOT_FOUND',
  DeadLetterAmbiguous = 'DEAD_LETTER_AMBIGUOUS',
}

export class MessagingException extends ProblemException {
  static sessionNotFound(id: string) {
    return new MessagingException(404, ErrorCode.SessionNotFound, `Connection ${id} does not exist`);
  }
  static sessionLoggedOut(id: string) {
    return new MessagingException(409, ErrorCode.SessionLoggedOut, `Connection ${id} is logged out: log it in again before sending`);
  }
  static idempotencyConflict(messageId: string) {
    return new MessagingException(409, ErrorCode.IdempotencyConflict, `messageId ${messageId} was already used for a different message on this connection`);
  }
  static messageNotFound(messageId: string) {
    return new MessagingException(404, ErrorCode.MessageNotFound, `Message ${messageId} does not exist on this connection`);
  }
  static invalidField(field: string, message: string) {
    return new MessagingException(400, ErrorCode.ValidationFailed, `${field}: ${message}`, { errors: [{ field, messages: [message] }] });
  }
  static mediaTooLarge(field: string, bytes: number, maxBytes: number) {
    const message = `${bytes} bytes exceeds the limit of ${maxBytes} bytes for this media type`;
    return new MessagingException(413, MessagingErrorCode.MediaTooLarge, `${field}: ${message}`, { errors: [{ field, messages: [message] }] });
  }
  static deadLetterNotFound(messageId: string) {
    return new MessagingException(404, MessagingErrorCode.DeadLetterNotFound, `No dead letter with messageId ${messageId}`);
  }
  static deadLetterAmbiguous(messageId: string, sessionIds: string[]) {
    return new MessagingException(409, MessagingErrorCode.DeadLetterAmbiguous, `Dead letters with messageId ${messageId} exist on several connections: add ?sessionId=`, { sessionIds });
  }
}

/** RFC 9457 problem document, as every error response of the API carries it. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: Array<{ field: string; messages: string[] }>;
  [extension: string]: unknown;
}

/** Stable machine codes; clients switch on these, so they never change meaning. */
export enum ErrorCode {
  ValidationFailed = 'VALIDATION_FAILED',
  MalformedBody = 'MALFORMED_BODY',
  Unauthorized = 'UNAUTHORIZED',
  Forbidden = 'FORBIDDEN',
  RouteNotFound = 'ROUTE_NOT_FOUND',
  NotFound = 'NOT_FOUND',
  MethodNotAllowed = 'METHOD_NOT_ALLOWED',
  PayloadTooLarge = 'PAYLOAD_TOO_LARGE',
  UnsupportedMediaType = 'UNSUPPORTED_MEDIA_TYPE',
  NotAcceptable = 'NOT_ACCEPTABLE',
  RateLimited = 'RATE_LIMITED',
  NotReady = 'NOT_READY',
  Internal = 'INTERNAL_ERROR',
  ApiKeyNotFound = 'API_KEY_NOT_FOUND',
  SessionNotFound = 'SESSION_NOT_FOUND',
  SessionNotConnected = 'SESSION_NOT_CONNECTED',
  SessionNotAwaitingQr = 'SESSION_NOT_AWAITING_QR',
  SessionLoggedOut = 'SESSION_LOGGED_OUT',
  IdempotencyConflict = 'IDEMPOTENCY_CONFLICT',
  MessageNotFound = 'MESSAGE_NOT_FOUND',
}

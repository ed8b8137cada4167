import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

export enum WebhooksErrorCode {
  WebhookNotFound = 'WEBHOOK_NOT_FOUND',
  DeliveryNotFound = 'WEBHOOK_DELIVERY_NOT_FOUND',
  UrlForbidden = 'WEBHOOK_URL_FORBIDDEN',
  ManagedByConnection = 'WEBHOOK_MANAGED_BY_CONNECTION',
  DeliveryNotReplayable = 'WEBHOOK_DELIVERY_NOT_REPLAYABLE',
}

export class WebhooksException extends ProblemException {
  static notFound(id: string) {
    return new WebhooksException(404, WebhooksErrorCode.WebhookNotFound, `Webhook subscription ${id} does not exist`);
  }
  static deliveryNotFound(id: string) {
    return new WebhooksException(404, WebhooksErrorCode.DeliveryNotFound, `Delivery ${id} does not exist for this subscription`);
  }
  static sessionNotFound(id: string) {
    return new WebhooksException(404, ErrorCode.SessionNotFound, `Connection ${id} does not exist`);
  }
  static urlForbidden(url: string, reason: string) {
    return new WebhooksException(400, WebhooksErrorCode.UrlForbidden, `Webhook URL ${url} is not allowed: ${reason}`);
  }
  static managedByConnection(id: string, sessionId: string) {
    return new WebhooksException(
      409,
      WebhooksErrorCode.ManagedByConnection,
      `Webhook ${id} is the webhookUrl of connection ${sessionId}; change or remove it with PATCH /connections/${sessionId}`,
    );
  }
  static notReplayable(id: string, state: string) {
    return new WebhooksException(409, WebhooksErrorCode.DeliveryNotReplayable, `Delivery ${id} is ${state}; only a finished delivery can be replayed`);
  }
}

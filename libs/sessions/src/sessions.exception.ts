import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

export class SessionsException extends ProblemException {
  static notFound(id: string) {
    return new SessionsException(404, ErrorCode.SessionNotFound, `Connection ${id} does not exist`);
  }

  static notAwaitingQr(id: string, status: string) {
    return new SessionsException(409, ErrorCode.SessionNotAwaitingQr, `Connection ${id} is ${status}, not waiting for a QR scan or a pairing code`, { connectionStatus: status });
  }
}

import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

export class SessionsException extends ProblemException {
  static notFound(id: string) {
    return new SessionsException(404, ErrorCode.SessionNotFound, `Connection ${id} does not exist`);
  }
}

import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';

export class AuthException extends ProblemException {
  static missingKey() {
    return new AuthException(401, ErrorCode.Unauthorized, 'An API key is required: send "Authorization: Bearer <key>" or "x-api-key: <key>"', {}, { 'www-authenticate': 'Bearer' });
  }
  static invalidKey() {
    return new AuthException(401, ErrorCode.Unauthorized, 'The API key is not valid or has been revoked', {}, { 'www-authenticate': 'Bearer' });
  }
  static adminOnly() {
    return new AuthException(403, ErrorCode.Forbidden, 'This operation needs an admin key');
  }
  static otherConnection() {
    return new AuthException(403, ErrorCode.Forbidden, 'This key is scoped to another connection');
  }
  static keyNotFound(id: string) {
    return new AuthException(404, ErrorCode.ApiKeyNotFound, `API key ${id} does not exist`);
  }
}

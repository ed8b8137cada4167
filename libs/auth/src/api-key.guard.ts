import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppConfig } from '../../config/src';
import { METRICS_ROUTE } from '../../observability/src/metrics.module';
import { AuthException } from './auth.exception';
import { apiKeyHashOf } from './api-key.hash';
import { ApiKeyService } from './api-key.service';
import { ADMIN_ONLY, ANY_KEY, CONNECTION_PARAM, Principal, PUBLIC_ROUTE } from './principal';

type AuthRequest = { headers: Record<string, string | string[] | undefined>; params?: Record<string, string>; principal?: Principal };

/** Applied to every route: a route is protected unless it says it is public. */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyService,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const isMetrics = this.reflector.getAllAndOverride<boolean>(METRICS_ROUTE, targets);
    if (isMetrics && !this.config.metricsRequireAuth) return true;

    const request = context.switchToHttp().getRequest<AuthRequest>();
    const keyHash = apiKeyHashOf(request);
    if (!keyHash) throw AuthException.missingKey();
    const principal = await this.keys.verifyHash(keyHash);
    if (!principal) throw AuthException.invalidKey();
    request.principal = principal;

    if (principal.role === 'admin') return true;
    if (isMetrics || this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets)) throw AuthException.adminOnly();
    if (this.reflector.getAllAndOverride<boolean>(ANY_KEY, targets)) return true;
    const param = this.reflector.getAllAndOverride<string>(CONNECTION_PARAM, targets);
    if (!param) throw AuthException.adminOnly();
    if (request.params?.[param] !== principal.sessionId) throw AuthException.otherConnection();
    return true;
  }
}

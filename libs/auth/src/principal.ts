import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';

/** Who is calling: an admin key, or a key scoped to one connection. */
export interface Principal {
  keyId: string;
  role: 'admin' | 'connection';
  sessionId: string | null;
}

export const PUBLIC_ROUTE = 'auth:public';
export const ADMIN_ONLY = 'auth:admin-only';
export const CONNECTION_PARAM = 'auth:connection-param';
export const ANY_KEY = 'auth:any-key';

/** No key needed (health probes, docs). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
/** Only admin keys (key management, global webhooks, dead letters across connections). */
export const AdminOnly = () => SetMetadata(ADMIN_ONLY, true);
/** The route acts on the connection named by this path parameter: scoped keys may use it only for their own. */
export const ConnectionScoped = (param = 'id') => SetMetadata(CONNECTION_PARAM, param);

/** Any valid key; the handler narrows what a scoped key sees (e.g. lists filtered to its connection). */
export const AnyKey = () => SetMetadata(ANY_KEY, true);

export const CurrentPrincipal = createParamDecorator((_data: unknown, context: ExecutionContext): Principal => {
  return context.switchToHttp().getRequest<{ principal: Principal }>().principal;
});

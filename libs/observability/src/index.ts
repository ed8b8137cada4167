export * from './metrics';
export * from './metrics.module';
export * from './readiness';
export * from './observability.module';
export * from './logger.module';
export * from './root-logger';
export * from './access-log';
export * from './service-info';

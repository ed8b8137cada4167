export * from './app-config';
export * from './load-config';
export * from './embedded-secrets';
export * from './config.module';

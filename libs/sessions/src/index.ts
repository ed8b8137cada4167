export * from './sessions.module';
export * from './sessions.repository';
export * from './connections.dto';

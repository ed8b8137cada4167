export * from './ip-ranges';
export * from './url-guard';
export * from './pinned-agent';

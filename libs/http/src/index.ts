export * from './problem.exception';
export * from './problem.filter';
export * from './validation';
export * from './cursor';
export * from './page-query.dto';

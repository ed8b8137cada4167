import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DatabaseReadiness, HealthController } from './health.controller';
import { MetricsModule } from './metrics.module';
import { Readiness } from './readiness';
import { RedisReadiness } from './redis-readiness';

/** Health, readiness and metrics: served in every role, so a worker is probed like an api. */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), MetricsModule],
  controllers: [HealthController],
  providers: [Readiness, DatabaseReadiness, RedisReadiness],
  exports: [Readiness, MetricsModule],
})
export class ObservabilityModule {}

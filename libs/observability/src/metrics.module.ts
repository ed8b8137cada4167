import { Controller, Get, Global, Header, Module, Res, SetMetadata } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PrometheusController, PrometheusModule } from '@willsoto/nestjs-prometheus';
import { Metrics } from './metrics';

/** Marks the metrics route: open by default, admin-only when METRICS_REQUIRE_AUTH is set (the auth guard reads it). */
export const METRICS_ROUTE = 'metrics-route';

/**
 * Serves the product's own registry (see Metrics) rather than prom-client's
 * global one, so several app instances in one process (tests) never clash.
 */
@ApiExcludeController()
@Controller()
export class MetricsController extends PrometheusController {
  constructor(private readonly metrics: Metrics) {
    super();
  }

  @Get()
  @SetMetadata(METRICS_ROUTE, true)
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  override async index(@Res({ passthrough: true }) _response: unknown): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

@Global()
@Module({
  imports: [PrometheusModule.register({ controller: MetricsController, path: '/metrics', defaultMetrics: { enabled: false } })],
  providers: [{ provide: Metrics, useFactory: () => new Metrics() }],
  exports: [Metrics],
})
export class MetricsModule {}

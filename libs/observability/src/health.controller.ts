import { Controller, Get, Injectable, OnModuleInit } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { ErrorCode } from '../../contracts/src';
import { ProblemException } from '../../http/src/problem.exception';
import { Public } from '../../auth/src/principal';
import { Readiness, withTimeout } from './readiness';

const CHECK_TIMEOUT_MS = 2000;

/** The database check every role needs. */
@Injectable()
export class DatabaseReadiness implements OnModuleInit {
  constructor(
    private readonly readiness: Readiness,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.readiness.register('database', async () => {
      await withTimeout(this.dataSource.query('SELECT 1'), CHECK_TIMEOUT_MS, 'database');
    });
  }
}

@ApiTags('operations')
@Public()
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: Readiness,
  ) {}

  @Get('health')
  @ApiOkResponse({ description: 'The process is up' })
  liveness() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOkResponse({ description: 'Database, queue backend and (worker) sockets are usable' })
  @ApiServiceUnavailableResponse({ description: 'Problem document with the failing checks' })
  async ready() {
    const checks = this.readiness.entries().map(([name, check]) => async (): Promise<HealthIndicatorResult> => {
      const indicator = this.indicators.check(name);
      try {
        return indicator.up((await withTimeout(check(), CHECK_TIMEOUT_MS, name)) ?? {});
      } catch (error) {
        return indicator.down({ message: (error as Error).message });
      }
    });
    try {
      return await this.health.check(checks);
    } catch (error) {
      const details = (error as { response?: { details?: unknown } }).response?.details;
      throw new ProblemException(503, ErrorCode.NotReady, 'Not ready: a dependency is unavailable', { checks: details });
    }
  }
}

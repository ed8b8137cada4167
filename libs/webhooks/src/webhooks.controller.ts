import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../auth/src/principal';
import { decodeCursor } from '../../http/src/cursor';
import { DeliveriesService } from './delivery/deliveries.service';
import { SubscriptionsService } from './subscriptions/subscriptions.service';
import {
  CreatedWebhookView,
  CreateWebhookDto,
  DeliveryListQueryDto,
  DeliveryListView,
  DeliveryView,
  RotatedSecretView,
  WebhookListQueryDto,
  WebhookListView,
  WebhookView,
} from './webhooks.dto';
import { WebhooksException } from './webhooks.exception';

/** An id that is not a uuid names nothing: 404, like any unknown id. */
const WebhookId = () => Param('id', new ParseUUIDPipe({ exceptionFactory: () => WebhooksException.notFound('(malformed id)') }));
const DeliveryId = () => Param('deliveryId', new ParseUUIDPipe({ exceptionFactory: () => WebhooksException.deliveryNotFound('(malformed id)') }));

@ApiTags('webhooks')
@ApiBearerAuth()
@AdminOnly()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    private readonly subscriptions: SubscriptionsService,
    private readonly deliveries: DeliveriesService,
  ) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedWebhookView })
  async create(@Body() body: CreateWebhookDto): Promise<CreatedWebhookView> {
    const { subscription, secret } = await this.subscriptions.create({ url: body.url, events: body.events ?? [], sessionId: body.sessionId });
    return { ...WebhookView.of(subscription), secret };
  }

  @Get()
  @ApiOkResponse({ type: WebhookListView })
  async list(@Query() query: WebhookListQueryDto): Promise<WebhookListView> {
    const page = await this.subscriptions.page(query.limit ?? 50, decodeCursor(query.cursor), query.sessionId);
    return { items: page.items.map(WebhookView.of), nextCursor: page.nextCursor };
  }

  @Get(':id')
  @ApiOkResponse({ type: WebhookView })
  async get(@WebhookId() id: string): Promise<WebhookView> {
    return WebhookView.of(await this.subscriptions.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async remove(@WebhookId() id: string): Promise<void> {
    await this.subscriptions.remove(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOkResponse({ type: RotatedSecretView })
  async rotateSecret(@WebhookId() id: string): Promise<RotatedSecretView> {
    const { secret, previousSecretExpiresAt } = await this.subscriptions.rotateSecret(id);
    return { id, secret, previousSecretExpiresAt: previousSecretExpiresAt.toISOString() };
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOkResponse({ type: WebhookView })
  async enable(@WebhookId() id: string): Promise<WebhookView> {
    return WebhookView.of(await this.subscriptions.enable(id));
  }

  @Get(':id/deliveries')
  @ApiOkResponse({ type: DeliveryListView })
  async deliveriesOf(@WebhookId() id: string, @Query() query: DeliveryListQueryDto): Promise<DeliveryListView> {
    const page = await this.deliveries.page(id, query.limit ?? 50, query.state, decodeCursor(query.cursor));
    return { items: page.items.map(DeliveryView.of), nextCursor: page.nextCursor };
  }

  @Post(':id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @ApiOkResponse({ type: DeliveryView })
  async replay(@WebhookId() id: string, @DeliveryId() deliveryId: string): Promise<DeliveryView> {
    return DeliveryView.of(await this.deliveries.replay(id, deliveryId));
  }
}

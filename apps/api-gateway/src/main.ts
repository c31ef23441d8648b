import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { runService } from '@trigrun/nest';
import { AppModule } from './app.module';
import { type ApiGatewayConfig, loadConfig } from './config';
import { GatewayLimits } from './limits';
import { addPublicEndpoints } from './public-endpoints.openapi';
import { registerPublicProxy } from './public-proxy';

function configureOpenApi(app: NestFastifyApplication, config: ApiGatewayConfig) {
  const document = addPublicEndpoints(
    SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('TrigRun API')
      .setDescription('Scheduled HTTP jobs, workflows and inbound webhooks. Errors use {"error":{"code","message","details"}}.')
      .setVersion('0.1.0')
      .addServer(config.TRIGRUN_PUBLIC_URL)
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'a JWT from login/signup, or an API token (cron_pat_…)' })
      .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json', yamlDocumentUrl: 'openapi.yaml' });
}

runService({
  name: 'api-gateway',
  loadConfig,
  module: (config) => AppModule.forRoot(config),
  configure: async (app, config) => {
    configureOpenApi(app, config);
    const fastify = app.getHttpAdapter().getInstance();
    await app.get(GatewayLimits).install(fastify);
    if (config.TRIGRUN_TRIGGER_INGEST_URL) await registerPublicProxy(fastify, config.TRIGRUN_TRIGGER_INGEST_URL, config.TRIGRUN_TRUSTED_PROXY_HOPS);
  },
});

import 'reflect-metadata';
import { runService } from '@trigrun/nest';
import { AppModule } from './app.module';
import { registerBodyParsers } from './body-parsers';
import { loadConfig } from './config';
import { keepInternalEndpointsInternal } from './internal-endpoints';

runService({
  name: 'trigger-ingest',
  loadConfig,
  module: (config) => AppModule.forRoot(config),
  configure: (app) => {
    registerBodyParsers(app);
    keepInternalEndpointsInternal(app.getHttpAdapter().getInstance());
  },
});

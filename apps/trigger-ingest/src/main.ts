import 'reflect-metadata';
import { runService } from '@trigrun/nest';
import { AppModule } from './app.module';
import { registerBodyParsers } from './body-parsers';
import { loadConfig } from './config';

runService({ name: 'trigger-ingest', loadConfig, module: (config) => AppModule.forRoot(config), configure: (app) => registerBodyParsers(app) });

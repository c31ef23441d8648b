import 'reflect-metadata';
import { runService } from '@trigrun/nest';
import { AppModule } from './app.module';
import { loadConfig } from './config';

runService({ name: 'trigger-ingest', loadConfig, module: (config) => AppModule.forRoot(config) });

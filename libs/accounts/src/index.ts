export * from './accounts.service';
export * from './auth.guard';
export * from './crypto';
export * from './entities';

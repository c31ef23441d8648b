export * from './secret-cipher';
export * from './secret-redaction';
export * from './secret-references';
export * from './secret.entity';
export * from './secrets.config';
export * from './secrets.providers';
export * from './secrets.service';

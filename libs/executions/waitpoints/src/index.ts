export * from './waitpoints';

export { escapeHtml } from './html';
export * from './review-page';

/**
 * Opaque list cursors: the id of the last row of a page. Ids are time-sortable, so "older than
 * the cursor" is a stable page boundary while new rows arrive.
 */
const ID = /^[a-z]+_[0-9A-HJKMNP-TV-Z]{26}$/;

export const encodeCursor = (id: string): string => Buffer.from(id).toString('base64url');

/** The id inside a cursor, or null when the text is not a cursor this API issued. */
export function decodeCursor(cursor: string): string | null {
  const id = Buffer.from(cursor, 'base64url').toString();
  return ID.test(id) ? id : null;
}

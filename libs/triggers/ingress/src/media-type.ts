/** How a body is read, decided by its media type alone (parameters such as `charset` are ignored). */
export type BodyKind = 'json' | 'form' | 'text';

// RFC 9110 `token "/" token`; RFC 6838 caps each part at 127 characters.
const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]{1,127}\/[!#$%&'*+.^_`|~0-9a-z-]{1,127}$/;

/**
 * The media type of a `content-type` header, lower case and without parameters:
 * `Application/JSON; charset=utf-8` → `application/json`. `null` when there is no header, or when
 * what it holds is not a media type (`json`, `text/ plain`, a kilobyte of garbage): such a body
 * is kept as text, the way a body with no content type is.
 */
export function mediaTypeOf(contentType: string | undefined): string | null {
  if (contentType === undefined) return null;
  const semicolon = contentType.indexOf(';');
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return MEDIA_TYPE.test(essence) ? essence : null;
}

/** `application/json` and every `+json` structured syntax suffix (`application/cloudevents+json`, `application/vnd.github+json`) are JSON. */
export function bodyKindOf(mediaType: string | null): BodyKind {
  if (mediaType === null) return 'text';
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return 'json';
  if (mediaType === 'application/x-www-form-urlencoded') return 'form';
  return 'text';
}

/**
 * A request refused at the HTTP edge, before any handler runs (its media type, its origin,
 * its body's encoding or depth). Unlike domain errors it is about HTTP itself, so it
 * carries its status and the slug of its problem type.
 */
export class RequestRefusedError extends Error {
  override readonly name = 'RequestRefusedError';

  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

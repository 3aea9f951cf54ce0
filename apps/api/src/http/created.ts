import { FastifyReply } from 'fastify';

/** 201 answers carry the new resource's URL in `Location`. */
export function created<T extends { _links: { self: string } }>(reply: FastifyReply, body: T): T {
  void reply.header('Location', body._links.self);
  return body;
}

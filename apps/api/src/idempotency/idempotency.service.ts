import { ConflictError, DomainError, SecretBox, ValidationFailedError } from '@dbaas/core';
import { Injectable } from '@nestjs/common';
import { IdempotencyClaim, IdempotencyKeyRepository } from './idempotency-key.repository';

/** How long an answer is kept for replay. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/**
 * A claim recorded without its owner (before owners were recorded) still `running` after
 * this has lost its process (requests end within seconds).
 */
const ABANDONED_AFTER_MS = 10 * 60 * 1000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A stored answer, sent again instead of running the request twice. */
export interface StoredAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** The same key was used for a different request: 422, as the IETF draft says. */
export class IdempotencyKeyReusedError extends DomainError {}

/** Thrown to make the problem filter send a stored answer as it was. */
export class ReplayedAnswer extends Error {
  constructor(readonly answer: StoredAnswer) {
    super('The first answer to this Idempotency-Key, replayed.');
  }
}

/**
 * `Idempotency-Key` on POST (draft-ietf-httpapi-idempotency-key-header): the first request
 * with a key claims it; a retry with the same body gets the first answer again, another
 * body gets 422, and a retry while the first still runs gets 409. A claim whose process
 * has ended (ProcessIdentity: it records its owner) is free at once. Answers are sealed
 * with SecretBox (they can hold passwords) and kept for 24 hours, per user.
 */
@Injectable()
export class IdempotencyService {
  constructor(
    private readonly keys: IdempotencyKeyRepository,
    private readonly secrets: SecretBox,
  ) {}

  /**
   * What identifies a request for replay. Keyed (SecretBox.digest): the body may hold a
   * password (user create, password change), and a plain hash in the store would let anyone
   * who reads it test guesses at hash speed.
   */
  fingerprint(method: string, path: string, body: unknown): string {
    return this.secrets.digest(
      `${method} ${path.replace(/\/+$/, '')}\n${JSON.stringify(body ?? null)}`,
    );
  }

  validateKey(key: string): void {
    if (!KEY_PATTERN.test(key)) {
      throw new ValidationFailedError({
        'Idempotency-Key': ['must be 1 to 255 visible ASCII characters'],
      });
    }
  }

  /** Claims the key for this request, or answers with the stored answer / a conflict. */
  async claim(userId: number, key: string, print: string): Promise<IdempotencyClaim> {
    await this.keys.deleteCreatedBefore(new Date(Date.now() - KEY_LIFETIME_MS));
    const claim = await this.keys.claim(userId, key, print);
    if (claim) return claim;
    const existing = await this.keys.find(userId, key);
    if (!existing)
      throw new ConflictError('This Idempotency-Key is being used by another request; retry.');
    if (existing.fingerprint !== print) {
      throw new IdempotencyKeyReusedError(
        'This Idempotency-Key was already used for a different request.',
      );
    }
    if (existing.status === 'running' && (await this.releaseAbandoned(existing.id))) {
      return this.claim(userId, key, print);
    }
    if (existing.status === 'running' || !existing.responseEncrypted) {
      throw new ConflictError('A request with this Idempotency-Key is still being processed.');
    }
    throw new ReplayedAnswer(
      JSON.parse(this.secrets.decrypt(existing.responseEncrypted)) as StoredAnswer,
    );
  }

  async complete(claim: IdempotencyClaim, answer: StoredAnswer): Promise<void> {
    await this.keys.markDone(claim.id, {
      status: answer.status,
      encrypted: this.secrets.encrypt(JSON.stringify(answer)),
    });
  }

  /**
   * Frees the key if its request died with its process (the owner has ended, or an
   * owner-less claim is ABANDONED_AFTER_MS old).
   */
  private releaseAbandoned(id: number): Promise<boolean> {
    return this.keys.deleteIfAbandoned(id, {
      ownerlessBefore: new Date(Date.now() - ABANDONED_AFTER_MS),
    });
  }

  /** A server-side failure frees the key, so the client may simply retry. */
  async release(claim: IdempotencyClaim): Promise<void> {
    await this.keys.delete(claim.id);
  }
}

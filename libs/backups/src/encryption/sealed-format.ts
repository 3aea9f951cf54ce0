import { randomBytes } from 'node:crypto';
import { BackupCorruptError } from '../backup-errors';

/**
 * The sealed backup file, version 1:
 *
 *   header (45 bytes): magic "DBAASBAK" | version 1 (1 byte) | plaintext chunk size (uint32 BE)
 *                      | key id (8) | file salt (16) | nonce prefix (8)
 *   chunks:            AES-256-GCM ciphertext of each plaintext chunk | its 16-byte tag
 *
 * Every chunk holds `chunkSize` plaintext bytes except the last, which holds 0 to
 * `chunkSize` and is marked final. Chunk i is sealed with the file key (HKDF of the backup
 * key and the file salt), the nonce `prefix | uint32 BE i`, and the additional data
 * `header | uint64 BE i | final flag`: a changed header, a reordered, dropped or swapped
 * chunk, or a file cut short (its last chunk is not marked final) fails authentication.
 */
export const MAGIC = Buffer.from('DBAASBAK', 'ascii');
export const FORMAT_VERSION = 1;
export const HEADER_LENGTH = 45;
export const TAG_LENGTH = 16;
export const DEFAULT_CHUNK_SIZE = 64 * 1024;
/** A header is only authenticated with the first chunk: bound what it may ask for before that. */
export const MIN_CHUNK_SIZE = 1024;
export const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
/** The nonce's counter is 32 bits. */
export const MAX_CHUNKS = 2 ** 32;

export interface SealedHeader {
  bytes: Buffer;
  chunkSize: number;
  keyId: Buffer;
  salt: Buffer;
  noncePrefix: Buffer;
}

export function newHeader(keyId: Buffer, chunkSize: number): SealedHeader {
  if (chunkSize < MIN_CHUNK_SIZE || chunkSize > MAX_CHUNK_SIZE) {
    throw new RangeError(`chunk size must be between ${MIN_CHUNK_SIZE} and ${MAX_CHUNK_SIZE}`);
  }
  const bytes = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(bytes, 0);
  bytes.writeUInt8(FORMAT_VERSION, 8);
  bytes.writeUInt32BE(chunkSize, 9);
  keyId.copy(bytes, 13);
  randomBytes(24).copy(bytes, 21); // salt and nonce prefix
  return readHeader(bytes);
}

/** Parses a header, or says plainly why this is not a file we can open. */
export function parseHeader(bytes: Buffer): SealedHeader {
  if (!bytes.subarray(0, 8).equals(MAGIC)) {
    throw new BackupCorruptError('Not a dbaas backup file (wrong magic bytes)');
  }
  const version = bytes.readUInt8(8);
  if (version !== FORMAT_VERSION) {
    throw new BackupCorruptError(`Unsupported backup file format version ${version}`);
  }
  const header = readHeader(bytes);
  if (header.chunkSize < MIN_CHUNK_SIZE || header.chunkSize > MAX_CHUNK_SIZE) {
    throw new BackupCorruptError(`Backup file header is damaged (chunk size ${header.chunkSize})`);
  }
  return header;
}

function readHeader(bytes: Buffer): SealedHeader {
  return {
    bytes,
    chunkSize: bytes.readUInt32BE(9),
    keyId: bytes.subarray(13, 21),
    salt: bytes.subarray(21, 37),
    noncePrefix: bytes.subarray(37, 45),
  };
}

export function chunkNonce(header: SealedHeader, index: number): Buffer {
  const nonce = Buffer.alloc(12);
  header.noncePrefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, 8);
  return nonce;
}

export function chunkAad(header: SealedHeader, index: number, final: boolean): Buffer {
  const aad = Buffer.alloc(HEADER_LENGTH + 9);
  header.bytes.copy(aad, 0);
  aad.writeBigUInt64BE(BigInt(index), HEADER_LENGTH);
  aad.writeUInt8(final ? 1 : 0, HEADER_LENGTH + 8);
  return aad;
}

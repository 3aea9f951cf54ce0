import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackupFileNotFoundError } from '../backup-errors';
import { StreamMeter } from '../streams/stream-meter';
import { BackupStorage } from './backup-storage';
import { assertStorageKey, assertStoragePrefix } from './storage-key';

export interface S3BucketOptions {
  bucket: string;
  /** Prepended to every key (`dbaas/`), or ''. */
  prefix: string;
  endpoint?: string;
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  /** Bytes per uploaded part (S3's minimum is 5 MiB); `queueSize` parts are in memory at once. */
  partSize?: number;
  queueSize?: number;
}

const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

/**
 * Backup files in an S3-compatible bucket. Writes are multipart uploads (lib-storage's
 * Upload, at most `queueSize × partSize` bytes in memory): the object appears only when
 * the upload completes, and a failed upload is aborted, its parts removed. A process
 * killed mid-upload leaves an incomplete multipart upload, invisible to reads and lists,
 * which the bucket's lifecycle rule (AbortIncompleteMultipartUpload) clears.
 */
export class S3BucketStorage implements BackupStorage {
  private readonly client: S3Client;

  constructor(private readonly options: S3BucketOptions) {
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials:
        options.accessKeyId && options.secretAccessKey
          ? { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey }
          : undefined,
    });
  }

  get location(): string {
    const where = this.options.endpoint ? ` at ${this.options.endpoint}` : '';
    return `s3://${this.options.bucket}/${this.options.prefix}${where}`;
  }

  async write(key: string, source: Readable): Promise<{ sizeInBytes: number }> {
    const meter = new StreamMeter();
    // A failing source destroys the meter, which fails (and aborts) the upload.
    const feeding = pipeline(source, meter).catch(() => undefined);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: this.objectKey(key), Body: meter },
      partSize: this.options.partSize ?? DEFAULT_PART_SIZE,
      queueSize: this.options.queueSize ?? 2,
    });
    try {
      await upload.done();
    } catch (error) {
      meter.destroy();
      throw error;
    } finally {
      await feeding;
    }
    return { sizeInBytes: meter.bytes };
  }

  async read(key: string): Promise<Readable> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return answer.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new BackupFileNotFoundError(key);
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
    );
  }

  /**
   * Aborts the incomplete multipart uploads of `key`. A server without
   * ListMultipartUploads (NotImplemented: s3rver, some small S3-compatible servers) leaves
   * them to the bucket's lifecycle rule (AbortIncompleteMultipartUpload).
   */
  async removeLeftovers(key: string): Promise<void> {
    const Key = this.objectKey(key);
    let Uploads;
    try {
      ({ Uploads = [] } = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.options.bucket, Prefix: Key }),
      ));
    } catch (error) {
      if (error instanceof S3ServiceException && error.name === 'NotImplemented') return;
      throw error;
    }
    for (const upload of Uploads.filter((u) => u.Key === Key && u.UploadId)) {
      await this.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key,
          UploadId: upload.UploadId,
        }),
      );
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: this.options.prefix + assertStoragePrefix(prefix),
          ContinuationToken,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) keys.push(object.Key.slice(this.options.prefix.length));
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys.sort();
  }

  /** Closes the client's sockets. */
  destroy(): void {
    this.client.destroy();
  }

  private objectKey(key: string): string {
    return this.options.prefix + assertStorageKey(key);
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' ||
      error.name === 'NotFound' ||
      error.$metadata.httpStatusCode === 404)
  );
}

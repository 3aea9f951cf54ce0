import { BackupRecord } from '@dbaas/backups';
import { BACKUP_KINDS, BACKUP_STATUSES, BackupKind, BackupStatus } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { PageQueryDto } from '../http/page-query.dto';
import { Reference } from '../http/reference';

class BackupFilterDto {
  // No examples: Swagger UI would pre-fill "Try it out" with them and filter the list.
  @ApiPropertyOptional({
    type: String,
    description: 'Only the backups of this database (URL, path or id).',
  })
  @IsOptional()
  @Reference('database')
  database?: number;

  @ApiPropertyOptional({ enum: BACKUP_STATUSES })
  @IsOptional()
  @IsIn(BACKUP_STATUSES)
  status?: BackupStatus;

  @ApiPropertyOptional({ enum: BACKUP_KINDS })
  @IsOptional()
  @IsIn(BACKUP_KINDS)
  kind?: BackupKind;
}

export class BackupQueryDto extends IntersectionType(PageQueryDto, BackupFilterDto) {}

export class BackupDto {
  @ApiProperty({ type: SelfLink('backup') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({
    example: 'http://localhost:8000/api/database/1/',
    nullable: true,
    type: String,
    description: 'Null once the database is gone (a final backup outlives it).',
  })
  database: string | null;
  @ApiProperty({ example: 'test_database2' })
  database_name: string;
  @ApiProperty({ example: 'postgresql', description: 'The engine type of the database.' })
  engine: string;
  @ApiProperty({ enum: BACKUP_KINDS, example: 'manual' })
  kind: string;
  @ApiProperty({
    enum: BACKUP_STATUSES,
    example: 'ready',
    description:
      '`running` → `ready` (the file is stored) or `failed` (no file); `deleting` while a DELETE removes it.',
  })
  status: string;
  @ApiProperty({
    type: 'integer',
    nullable: true,
    example: 1048576,
    description:
      'Bytes of the stored (sealed) file. While `running`: the bytes stored so far, updated about every 2 seconds (progress); null before the first update.',
  })
  size_in_bytes: number | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
    description: 'SHA-256 (hex) of the stored file; null until `ready`.',
  })
  sha256: string | null;
  @ApiProperty({ example: '2026-11-27T09:00:00.000Z' })
  created_at: string;
  @ApiProperty({ example: '2026-11-27T09:00:05.000Z', nullable: true, type: String })
  finished_at: string | null;
  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'When it is removed (scheduled and final backups); null = kept until deleted.',
  })
  expires_at: string | null;
  @ApiProperty({
    example: 'http://localhost:8000/api/task/1/',
    nullable: true,
    type: String,
    description: 'The task that took it (`backup_database`).',
  })
  task: string | null;
  @ApiProperty({
    example: null,
    nullable: true,
    type: String,
    description: 'Why it failed; never a secret.',
  })
  error: string | null;
}

export function presentBackup(links: Links, backup: BackupRecord): BackupDto {
  return links.item('backup', {
    id: backup.id,
    database: links.to('database', backup.databaseId),
    database_name: backup.databaseName,
    engine: backup.engineType,
    kind: backup.kind,
    status: backup.status,
    size_in_bytes: backup.sizeInBytes,
    sha256: backup.sha256,
    created_at: backup.createdAt.toISOString(),
    finished_at: backup.finishedAt?.toISOString() ?? null,
    expires_at: backup.expiresAt?.toISOString() ?? null,
    task: links.to('task', backup.taskId),
    error: backup.error,
  });
}

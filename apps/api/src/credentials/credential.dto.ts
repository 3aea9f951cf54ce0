import { RevealedCredential } from '@dbaas/credentials';
import { CREDENTIAL_PRIVILEGES, CredentialEntity, CredentialPrivileges } from '@dbaas/persistence';
import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { connectionUri } from './connection-uri';
import { PageQueryDto } from '../http/page-query.dto';
import { Reference } from '../http/reference';

export class CreateCredentialDto {
  @ApiProperty({ example: 'u_myusr1', description: 'User name; normalized like database names.' })
  @IsString()
  @MaxLength(200)
  user: string;

  @ApiProperty({
    example: '/api/database/1/',
    type: String,
    description: 'Database reference: URL, path or id.',
  })
  @Reference('database')
  database: number;

  @ApiPropertyOptional({ enum: CREDENTIAL_PRIVILEGES, default: 'owner' })
  @IsOptional()
  @IsIn(CREDENTIAL_PRIVILEGES)
  privileges?: CredentialPrivileges;
}

class CredentialFilterDto {
  // No example: Swagger UI would pre-fill "Try it out" with it and filter the list.
  @ApiPropertyOptional({
    type: String,
    description: 'Only the credentials of this database (URL, path or id).',
  })
  @IsOptional()
  @Reference('database')
  database?: number;
}

export class CredentialQueryDto extends IntersectionType(PageQueryDto, CredentialFilterDto) {}

export class CredentialDto {
  @ApiProperty({ type: SelfLink('credential') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 1 })
  id: number;
  @ApiProperty({ example: 'u_test_database2' })
  user: string;
  @ApiProperty({ example: 'http://localhost:8000/api/database/1/' })
  database: string;
  @ApiProperty({ enum: CREDENTIAL_PRIVILEGES, example: 'owner' })
  privileges: string;
  @ApiProperty({ example: '2026-11-27T09:00:00.000Z' })
  created_at: string;
}

/** Detail, create and reset: the only answers that carry the password. */
export class CredentialWithPasswordDto extends CredentialDto {
  @ApiProperty({ example: 'kP7wNq3RtY8zXa4bC9dE6fGh' })
  password: string;
  @ApiProperty({
    example:
      'postgresql://u_test_database2:kP7wNq3RtY8zXa4bC9dE6fGh@db1.example.com:5432/test_database2',
    description:
      'Ready to use: the database endpoint with this user and password (URL-encoded), as the Open Service Broker binding gives it.',
  })
  uri: string;
}

export function presentCredential(
  links: Links,
  credential: Omit<CredentialEntity, 'database' | 'passwordEncrypted'>,
): CredentialDto {
  return links.item('credential', {
    id: credential.id,
    user: credential.user,
    database: links.to('database', credential.databaseId),
    privileges: credential.privileges,
    created_at: credential.createdAt.toISOString(),
  });
}

/** A credential with its password, and its connection URI on the database's `endpoint`. */
export function presentRevealed(
  links: Links,
  { credential, password }: RevealedCredential,
  endpoint: string,
): CredentialWithPasswordDto {
  return {
    ...presentCredential(links, credential),
    password,
    uri: connectionUri(endpoint, credential.user, password),
  };
}

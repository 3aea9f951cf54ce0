import { ROLES } from '@dbaas/persistence';
import { Team, TeamInput, User, UserInput } from '@dbaas/auth';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import {
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
} from 'class-validator';
import { SelfLink } from '../http/api-docs.decorators';
import { Links } from '../http/links';
import { CatalogName } from '../http/name.validators';
import { Reference } from '../http/reference';

export class CreateUserDto {
  @ApiProperty({ example: 'alice' })
  @IsString()
  @Matches(/^[A-Za-z0-9_.@-]{1,64}$/, {
    message: 'may hold letters, digits and _ . @ - (at most 64)',
  })
  username: string;

  @ApiProperty({
    example: 'a long passphrase',
    writeOnly: true,
    description: 'Write-only; stored as a scrypt hash.',
  })
  @IsString()
  @MinLength(6)
  @MaxLength(200)
  password: string;

  @ApiProperty({ enum: ROLES, example: 'regular' })
  @IsIn(ROLES)
  role: UserInput['role'];

  @ApiPropertyOptional({
    type: [String],
    example: ['/api/team/2/'],
    description: 'Team references.',
  })
  @IsOptional()
  @IsArray()
  @Reference('team', { each: true })
  teams?: number[];
}
export class UpdateUserDto extends PartialType(CreateUserDto) {}

export class UserDto {
  @ApiProperty({ type: SelfLink('user') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 2 })
  id: number;
  @ApiProperty({ example: 'alice' })
  username: string;
  @ApiProperty({ enum: ROLES, example: 'regular' })
  role: string;
  @ApiProperty({ type: [String], example: ['http://localhost:8000/api/team/2/'] })
  teams: string[];
}

export const userInput = (dto: UpdateUserDto): Partial<UserInput> => ({ ...dto });

export const presentUser = (links: Links, row: User): UserDto =>
  links.item('user', {
    id: row.id,
    username: row.username,
    role: row.role,
    teams: row.teamIds.map((id) => links.to('team', id)),
  });

export class CreateTeamDto {
  @ApiProperty({ example: 'payments' })
  @CatalogName()
  name: string;

  @ApiPropertyOptional({
    type: [String],
    example: ['/api/user/2/'],
    description: 'User references.',
  })
  @IsOptional()
  @IsArray()
  @Reference('user', { each: true })
  users?: number[];

  @ApiPropertyOptional({
    type: 'integer',
    example: 0,
    description:
      'How many databases the team may have (quarantined ones included); 0 (the default) = no limit. A create, clone or from_backup beyond it: 409 quota-exceeded. A limit below the current count is allowed: it stops new databases at once.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  database_limit?: number;
}
export class UpdateTeamDto extends PartialType(CreateTeamDto) {}

export class TeamDto {
  @ApiProperty({ type: SelfLink('team') })
  _links: { self: string };
  @ApiProperty({ type: 'integer', example: 2 })
  id: number;
  @ApiProperty({ example: 'payments' })
  name: string;
  @ApiProperty({ type: [String], example: ['http://localhost:8000/api/user/2/'] })
  users: string[];
  @ApiProperty({ type: 'integer', example: 0, description: '0 = no limit.' })
  database_limit: number;
}

export const teamInput = ({ database_limit, ...dto }: UpdateTeamDto): Partial<TeamInput> => ({
  ...dto,
  databaseLimit: database_limit,
});

export const presentTeam = (links: Links, row: Team): TeamDto =>
  links.item('team', {
    id: row.id,
    name: row.name,
    users: row.userIds.map((id) => links.to('user', id)),
    database_limit: row.databaseLimit,
  });

/** `POST /api/user/{id}/password/`: the same password rules as on create. */
export class ChangePasswordDto {
  @ApiPropertyOptional({
    example: 'the old passphrase',
    writeOnly: true,
    description: "The user's current password: required to change your own; a dba may omit it.",
  })
  // Left out, it is optional; null is a value, and not a string (@IsOptional would let it by).
  @ValidateIf((body: ChangePasswordDto) => body.current_password !== undefined)
  @IsString()
  @MaxLength(200)
  current_password?: string;

  @ApiProperty({
    example: 'a new long passphrase',
    writeOnly: true,
    description: 'Write-only; stored as a scrypt hash.',
  })
  @IsString()
  @MinLength(6)
  @MaxLength(200)
  password: string;
}

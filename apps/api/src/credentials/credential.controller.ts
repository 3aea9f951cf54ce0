import { Authenticated, AuthenticatedUser, CurrentUser } from '@dbaas/auth';
import { CredentialsService, RevealedCredential } from '@dbaas/credentials';
import { DatabasesService } from '@dbaas/databases';
import { Body, Controller, Delete, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  ApiCreateRoute,
  ApiDeleteRoute,
  ApiDetailRoute,
  ApiListRoute,
  ApiProblems,
  ApiIdParam,
} from '../http/api-docs.decorators';
import { created } from '../http/created';
import { IdParam } from '../http/id-param.pipe';
import { Links, RequestLinks } from '../http/links';
import { pageOf } from '../http/page-query.dto';
import {
  CreateCredentialDto,
  CredentialDto,
  CredentialQueryDto,
  CredentialWithPasswordDto,
  presentCredential,
  presentRevealed,
} from './credential.dto';

@ApiTags('credential')
@Authenticated()
@Controller('api/credential')
export class CredentialController {
  constructor(
    private readonly credentials: CredentialsService,
    private readonly databases: DatabasesService,
  ) {}

  /** The credential with its password and connection URI (its database's endpoint, filled in). */
  private async present(links: Links, revealed: RevealedCredential, viewer: AuthenticatedUser) {
    const database = await this.databases.getUnmeasured(revealed.credential.databaseId, viewer);
    return presentRevealed(links, revealed, database.endpoint);
  }

  @Get()
  @ApiOperation({
    summary: 'List credentials (never with passwords)',
    operationId: 'list_credential',
  })
  @ApiListRoute(CredentialDto, 'credential')
  async list(
    @Query() query: CredentialQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    const page = pageOf(query);
    const { items, count } = await this.credentials.list(page, user, { database: query.database });
    return links.list(
      'credential',
      page,
      count,
      items.map((item) => presentCredential(links, item)),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a credential with its password', operationId: 'get_credential' })
  @ApiDetailRoute(CredentialWithPasswordDto)
  async get(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return this.present(links, await this.credentials.reveal(id, user), user);
  }

  @Post()
  @Idempotent()
  @ApiOperation({
    summary: 'Create a credential: a user on the engine with a generated password',
    operationId: 'create_credential',
  })
  @ApiCreateRoute(CredentialWithPasswordDto, 503)
  async create(
    @Body() body: CreateCredentialDto,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    return created(
      reply,
      await this.present(links, await this.credentials.create(body, user), user),
    );
  }

  @Post(':id/reset_password')
  @Idempotent()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Generate a new password; the old one stops working at once',
    operationId: 'reset_password_credential',
  })
  @ApiIdParam()
  @ApiOkResponse({ type: CredentialWithPasswordDto })
  @ApiProblems(404, 409, 503)
  async resetPassword(
    @IdParam() id: number,
    @CurrentUser() user: AuthenticatedUser,
    @RequestLinks() links: Links,
  ) {
    return this.present(links, await this.credentials.resetPassword(id, user), user);
  }

  @Delete(':id')
  @ApiOperation({
    summary: 'Drop the user on the engine, then the credential',
    operationId: 'delete_credential',
  })
  @ApiDeleteRoute(503)
  async remove(@IdParam() id: number, @CurrentUser() user: AuthenticatedUser): Promise<void> {
    await this.credentials.remove(id, user);
  }
}

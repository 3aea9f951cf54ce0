import { Authenticated, AuthenticatedUser, CurrentUser, UsersService } from '@dbaas/auth';
import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiNoContentResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblems, ApiIdParam } from '../http/api-docs.decorators';
import { IdParam } from '../http/id-param.pipe';
import { Idempotent } from '../idempotency/idempotent.decorator';
import { ChangePasswordDto } from './user.dto';

/** A user's own password change (the rest of /api/user/ is the catalog CRUD). */
@ApiTags('user')
@Authenticated()
@Controller('api/user')
export class UserPasswordController {
  constructor(private readonly users: UsersService) {}

  @Post(':id/password')
  @Idempotent()
  @HttpCode(204)
  @ApiOperation({
    summary:
      "Change a password: your own with the current one, anyone's as a dba; the old one stops working at once",
    operationId: 'change_password_user',
  })
  @ApiIdParam()
  @ApiNoContentResponse({ description: 'Changed.' })
  @ApiProblems(400, 403, 404, 409, 413, 415)
  async changePassword(
    @IdParam() id: number,
    @Body() body: ChangePasswordDto,
    @CurrentUser() user: AuthenticatedUser,
  ): Promise<void> {
    await this.users.changePassword(
      id,
      { currentPassword: body.current_password, password: body.password },
      user,
    );
  }
}

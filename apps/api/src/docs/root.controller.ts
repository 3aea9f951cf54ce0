import { Controller, Get, Redirect } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

@ApiExcludeController()
@Controller()
export class RootController {
  /** People who open the bare host land on the Swagger UI. */
  @Get()
  @Redirect('/api/docs', 302)
  root(): void {}
}

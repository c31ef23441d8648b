import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountsService, CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { Public } from '@trigrun/nest';
import { AddMemberDto, CreateApiTokenDto, LoginDto, SignupDto, SwitchWorkspaceDto } from './dto/auth.dto';

/** The HTTP edge of AccountsService: each snake_case body (dto/auth.dto.ts) becomes the service's camelCase command here. */
@ApiTags('accounts')
@Controller('v1')
export class AuthController {
  constructor(private readonly accounts: AccountsService) {}

  @Public()
  @Post('auth/signup')
  @ApiOperation({ summary: 'Create an account, its first workspace and an owner token' })
  signup(@Body() body: SignupDto) {
    return this.accounts.signup({ name: body.name, email: body.email, password: body.password, workspaceName: body.workspace_name, timezone: body.timezone });
  }

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  login(@Body() body: LoginDto) {
    return this.accounts.login({ email: body.email, password: body.password });
  }

  @ApiBearerAuth()
  @Post('auth/switch-workspace')
  @HttpCode(200)
  switchWorkspace(@CurrentPrincipal() principal: Principal, @Body() body: SwitchWorkspaceDto) {
    return this.accounts.switchWorkspace(principal, { workspaceId: body.workspace_id });
  }

  @ApiBearerAuth()
  @Get('auth/whoami')
  whoami(@CurrentPrincipal() principal: Principal) {
    return this.accounts.whoami(principal);
  }

  @ApiBearerAuth()
  @Get('workspaces')
  workspaces(@CurrentPrincipal() principal: Principal) {
    return this.accounts.listWorkspaces(principal);
  }

  @ApiBearerAuth()
  @Get('workspace/members')
  members(@CurrentPrincipal() principal: Principal) {
    return this.accounts.listMembers(principal);
  }

  @ApiBearerAuth()
  @Post('workspace/members')
  @ApiOperation({ summary: 'Add an existing user to this workspace (owners only)' })
  addMember(@CurrentPrincipal() principal: Principal, @Body() body: AddMemberDto) {
    return this.accounts.addMember(principal, { email: body.email, role: body.role });
  }

  @ApiBearerAuth()
  @Post('api-tokens')
  @ApiOperation({ summary: 'Create an API token (owners only); the token is shown once' })
  createToken(@CurrentPrincipal() principal: Principal, @Body() body: CreateApiTokenDto) {
    return this.accounts.createApiToken(principal, { name: body.name });
  }

  @ApiBearerAuth()
  @Get('api-tokens')
  tokens(@CurrentPrincipal() principal: Principal) {
    return this.accounts.listApiTokens(principal);
  }

  @ApiBearerAuth()
  @Delete('api-tokens/:id')
  @HttpCode(204)
  async revokeToken(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.accounts.revokeApiToken(principal, id);
  }
}

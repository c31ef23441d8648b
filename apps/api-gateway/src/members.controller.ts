import { Body, Controller, Delete, HttpCode, Param, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccountsService, CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { ChangeMemberRoleDto } from './dto/members.dto';

/** Role changes and removals: they hold for every request authenticated after they answer (docs/authentication.md). */
@ApiTags('accounts')
@ApiBearerAuth()
@Controller('v1/workspace/members')
export class MembersController {
  constructor(private readonly accounts: AccountsService) {}

  @Patch(':user_id')
  @ApiOperation({ summary: "Change a member's role (owners only); a workspace keeps at least one owner" })
  changeRole(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string, @Body() body: ChangeMemberRoleDto) {
    return this.accounts.changeMemberRole(principal, { userId, role: body.role });
  }

  @Delete(':user_id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a member (owners only) and revoke the API tokens they made here' })
  async remove(@CurrentPrincipal() principal: Principal, @Param('user_id') userId: string) {
    await this.accounts.removeMember(principal, userId);
  }
}

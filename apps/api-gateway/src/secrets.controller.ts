import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@trigrun/accounts';
import { SecretsService } from '@trigrun/secrets';
import { CreateSecretDto } from './dto/secret.dto';

/** Owners and admins manage secrets; members may list them (the list never carries values). */
@ApiTags('secrets')
@ApiBearerAuth()
@Controller('v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Post()
  @ApiOperation({
    summary: 'Store an encrypted secret (8 to 16384 characters of printable ASCII); the value is never returned. To change a value, delete and re-create.',
  })
  create(@CurrentPrincipal() principal: Principal, @Body() body: CreateSecretDto) {
    return this.secrets.create(principal, { name: body.name, value: body.value });
  }

  @Get()
  @ApiOperation({ summary: 'List secret names and metadata (never values)' })
  list(@CurrentPrincipal() principal: Principal) {
    return this.secrets.list(principal);
  }

  @Delete(':id')
  @HttpCode(204)
  async remove(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    await this.secrets.remove(principal, id);
  }
}

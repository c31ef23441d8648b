import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

export class ChangeMemberRoleDto {
  @ApiProperty({ enum: ['owner', 'admin', 'member'] }) @IsIn(['owner', 'admin', 'member']) role!: 'owner' | 'admin' | 'member';
}

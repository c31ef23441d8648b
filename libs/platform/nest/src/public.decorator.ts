import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'trigrun:public';
/** Marks a route that needs no bearer credential (health, signup, login, public token endpoints). */
export const Public = () => SetMetadata(IS_PUBLIC, true);

import { Role } from '@dbaas/persistence';

/** Who is calling: attached to the request by the Basic strategy. */
export interface AuthenticatedUser {
  id: number;
  username: string;
  role: Role;
  teamIds: number[];
}

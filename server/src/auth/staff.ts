import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { verifyPassword } from './passwords.ts';
import type { Role } from './tokens.ts';

const staffFileSchema = z.strictObject({
  $comment: z.string().optional(),
  demo: z.boolean().default(false),
  staff: z.array(
    z.strictObject({
      username: z.string().min(1).max(64),
      role: z.enum(['driver', 'dispatcher', 'admin']),
      displayName: z.string().max(100).optional(),
      passwordHash: z.string().startsWith('scrypt$'),
    }),
  ),
});
export type StaffFile = z.infer<typeof staffFileSchema>;

export function loadStaff(path: string, production: boolean): StaffDirectory {
  const parsed = staffFileSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`staff file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  // demo logins (dispatcher/dispatcher …) must never be accepted in production
  if (production && parsed.data.demo) throw new Error(`staff file ${path} holds demo logins, refused with NODE_ENV=production (set STAFF_FILE)`);
  return new StaffDirectory(parsed.data.staff);
}

export class StaffDirectory {
  constructor(private readonly staff: StaffFile['staff']) {}
  /** Role of the user if the password matches; constant work whether or not the user exists. */
  async authenticate(username: string, password: string): Promise<{ username: string; role: Role; displayName?: string } | null> {
    const s = this.staff.find((x) => x.username === username);
    // a dummy hash keeps timing the same for unknown users
    const ok = await verifyPassword(password, s?.passwordHash ?? DUMMY);
    return s && ok ? { username: s.username, role: s.role, displayName: s.displayName } : null;
  }
  list(): { username: string; role: Role; displayName?: string }[] {
    return this.staff.map(({ username, role, displayName }) => ({ username, role, displayName }));
  }
}
const DUMMY = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

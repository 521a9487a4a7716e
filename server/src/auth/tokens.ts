import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer tokens: base64url(JSON payload) + "." + base64url(HMAC-SHA256). Written here rather than pulled from a
 * JWT library because we need exactly one algorithm and no header negotiation (no "alg: none" class of bugs).
 */
export type Role = 'rider' | 'driver' | 'dispatcher' | 'admin' | 'vehicle';
export const STAFF_ROLES: readonly Role[] = ['driver', 'dispatcher', 'admin'];

export interface Principal {
  /** rider: pseudonymous id; staff: username; vehicle: vehicle id */
  sub: string;
  role: Role;
  /** expiry, epoch seconds */
  exp: number;
}

export class TokenService {
  constructor(
    private readonly secret: Buffer,
    private readonly now: () => number = Date.now,
  ) {
    if (secret.length < 16) throw new Error('token secret too short');
  }

  static randomSecret(): Buffer {
    return randomBytes(32);
  }

  issue(sub: string, role: Role, ttlSeconds: number): string {
    const payload: Principal = { sub, role, exp: Math.floor(this.now() / 1000) + ttlSeconds };
    const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${body}.${this.sign(body)}`;
  }

  /** The principal, or null for a malformed, forged or expired token. Never throws on input. */
  verify(token: unknown): Principal | null {
    if (typeof token !== 'string' || token.length > 2048) return null;
    const dot = token.indexOf('.');
    if (dot <= 0) return null;
    const body = token.slice(0, dot);
    const sig = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.sign(body), 'base64url');
    if (sig.length !== expected.length || !timingSafeEqual(sig, expected)) return null;
    try {
      const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Principal;
      if (typeof p.sub !== 'string' || typeof p.role !== 'string' || typeof p.exp !== 'number') return null;
      if (p.exp * 1000 < this.now()) return null;
      return p;
    } catch {
      return null;
    }
  }

  private sign(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url');
  }
}

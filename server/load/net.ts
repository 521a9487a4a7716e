import type { Socket } from 'socket.io-client';

/** A JSON call against the API; a network failure or timeout comes back as status 0 (counted, never thrown). */
export async function apiCall(url: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  try {
    const res = await fetch(url + path, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: res.status, json: await res.json().catch(() => null) };
  } catch {
    return { status: 0, json: null };
  }
}

/** Resolves once the socket is connected; rejects with `what` and the server's reason when it is refused. */
export function whenConnected(s: Socket, what: string): Promise<void> {
  return new Promise((res, rej) => {
    s.once('connect', () => res());
    s.once('connect_error', (e) => rej(new Error(`${what}: ${e.message}`)));
  });
}

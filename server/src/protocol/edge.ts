import type { Socket } from 'socket.io';
import type { Ack } from './events.ts';

/**
 * The socket edge in front of every handler (server only). socket.io hands the ack over as the last argument,
 * and every event of this protocol takes at most one payload before it; a packet with more arguments, or an
 * event no handler listens to, would otherwise be dropped in silence and leave the client waiting. Both are
 * answered `{error}` on the ack (when the packet has one) and counted; handlers then only ever see `()`,
 * `(payload)`, `(ack)` or `(payload, ack)`.
 */
export type AckReply = (res: Ack<unknown>) => void;

export function socketEdge(socket: Socket, onBad: (where: string) => void): void {
  socket.use((packet, next) => {
    const [event, ...args] = packet as unknown as [string | number, ...unknown[]];
    const last = args[args.length - 1];
    const ack = typeof last === 'function' ? (last as AckReply) : null;
    const payloads = args.length - (ack ? 1 : 0);
    const name = String(event).slice(0, 64);
    let error: { code: string; message: string } | null = null;
    // "error" is socket.io's own event on the server socket (it listens with a no-op): never a client event
    if (event === 'error' || (socket.listeners(event as string).length === 0 && socket.listenersAny().length === 0)) {
      error = { code: 'UNKNOWN_EVENT', message: `no such event on ${socket.nsp.name}: ${name}` };
    } else if (payloads > 1) {
      error = { code: 'VALIDATION', message: `${name} takes one payload and an ack; got ${payloads} arguments before the ack` };
    }
    if (!error) return next();
    // fixed labels: event names come from the client and must not grow the metric's label set
    onBad(error.code === 'UNKNOWN_EVENT' ? 'socket:unknown_event' : 'socket:arguments');
    ack?.({ error });
  });
}

/**
 * A handler's arguments as payload and ack: `(ack)` alone means no payload. (A non-function in the ack's place
 * never gets here: `socketEdge` refuses two payloads.)
 */
export function payloadAndAck(a: unknown, b: unknown): { payload: unknown; ack: AckReply | null } {
  if (typeof b === 'function') return { payload: a, ack: b as AckReply };
  if (typeof a === 'function') return { payload: undefined, ack: a as AckReply };
  return { payload: a, ack: null };
}

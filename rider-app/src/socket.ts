import { io, type Socket } from 'socket.io-client';
import type { RiderClientToServer, RiderServerToClient } from './types.ts';
import { useStore } from './store.ts';

export type RiderSocket = Socket<RiderServerToClient, RiderClientToServer>;

/**
 * Live updates on /rider: the server sends only this rider's bookings and the position of the bus assigned to
 * them (enforced server-side by the token). Reconnects on its own; the store shows "offline" meanwhile.
 */
export function connectRider(token: string, onUnauthorized: () => void): RiderSocket {
  // default transports: long-polling first, upgraded to a WebSocket where the network allows it
  const s: RiderSocket = io('/rider', { auth: { token }, reconnectionDelayMax: 5000 });
  const st = () => useStore.getState();
  s.on('connect', () => st().setConnected(true));
  s.on('disconnect', () => st().setConnected(false));
  s.on('connect_error', (e) => {
    st().setConnected(false);
    if (e.message === 'unauthorized') onUnauthorized();
  });
  s.on('bookings:snapshot', (list) => st().setSnapshot(list));
  s.on('booking:update', (b) => st().applyBooking(b));
  s.on('vehicle:position', (p) => st().applyPosition(p));
  return s;
}

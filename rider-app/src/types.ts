// Shared protocol types, imported type-only from the server so the UI bundle carries no server code.
export type { BookingView, BookingStatus, RiderVehicleView, RiderServerToClient, RiderClientToServer, Ack } from '../../server/src/protocol/events.ts';
export type { GeocodeResult } from '../../routing/src/geocode/geocoder.ts';
import type { GeocodeResult } from '../../routing/src/geocode/geocoder.ts';

export type { Hub, ServiceArea } from '../../routing/src/fixtures.ts';
export type GeocodeHit = GeocodeResult & { inServiceArea: boolean };
export interface Departure {
  lineId: string;
  headsign?: string;
  time: string;
}
export interface Departures {
  hubId: string;
  synthetic: boolean;
  transferBufferMin?: number;
  departures: Departure[];
}

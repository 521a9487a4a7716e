// Shared protocol types (type-only imports: no server code reaches the bundle).
export type {
  FleetVehicle,
  FleetState,
  PlanUpdate,
  PlanStopView,
  BookingView,
  Ack,
} from '../../../server/src/protocol/events.ts';

export interface Alert {
  id: string;
  t: number;
  vehicleId?: string;
  type: string;
  severity: 'critical' | 'warning' | 'info';
  message?: string;
  ackedBy?: string | null;
  ackedAt?: number | null;
}

export interface ReplayVehicle {
  id: string;
  lat: number;
  lon: number;
  heading: number;
  speed: number;
  soc: number;
  onboard: number;
  latencyMs: number;
  mode: string;
  doors: string;
}
export interface ReplayFrame {
  runId: string;
  t: number;
  playing: boolean;
  speed: number;
  vehicles: ReplayVehicle[];
  events: Record<string, unknown>[];
}
export interface RunInfo {
  id: string;
  name: string;
  kind: 'sim' | 'live';
  start: number;
  end: number;
  bytes: number;
}

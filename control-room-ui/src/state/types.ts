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

// Replay shapes come from the server's replay module (type-only: nothing of it reaches the bundle).
export type { ReplayVehicle, ReplayFrame } from '../../../server/src/replay/replay.ts';
export type { RunInfo } from '../../../server/src/replay/run-store.ts';

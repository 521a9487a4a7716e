import type { FleetVehicle, FleetVehicleDelta, FleetState } from '../protocol/events.ts';
import { diffFleetVehicle } from '../protocol/fleet-delta.ts';
import type { VehicleMode, VehicleStateMsg } from '../protocol/schemas.ts';

/** A bus of the fleet as configured (fixtures/fleet.json or a scenario). */
export interface VehicleDef {
  id: string;
  label: string;
  seats: number;
  wheelchairPlaces: number;
  batteryKWh: number;
  start: { lat: number; lon: number; hubId?: string };
  soc: number;
  keyHash?: string;
}

/** What the teleoperation core says about a bus (teleop/service.ts keeps it current). */
export interface TeleopFleetView {
  mode: VehicleMode;
  driver: string | null;
  latencyMs: number | null;
  permittedSpeed: number;
}

interface Live {
  def: VehicleDef;
  state: VehicleStateMsg | null;
  receivedAt: number;
  online: boolean;
  driver: string | null;
  latencyMs: number | null;
  /** the teleoperation core's view; when set it is the truth for mode, driver, latency and permitted speed */
  teleop: TeleopFleetView | null;
  dirty: boolean;
  /** the view as last fanned out: what every console has, the base of the next delta and of snapshots */
  sent: FleetVehicle;
}

/**
 * The fleet's live truth as the server sees it: last state of each bus, whether it is connected, who drives it.
 * Produces `fleet:state` snapshots (everything) and deltas (only buses that changed since the last delta).
 */
export class FleetRegistry {
  private readonly live = new Map<string, Live>();
  constructor(defs: VehicleDef[]) {
    for (const def of defs) {
      const l = { def, state: null, receivedAt: 0, online: false, driver: null, latencyMs: null, teleop: null, dirty: false } as Omit<Live, 'sent'> as Live;
      l.sent = this.view(l);
      this.live.set(def.id, l);
    }
  }

  has(id: string): boolean {
    return this.live.has(id);
  }
  def(id: string): VehicleDef | undefined {
    return this.live.get(id)?.def;
  }
  defs(): VehicleDef[] {
    return [...this.live.values()].map((l) => l.def);
  }
  state(id: string): VehicleStateMsg | null {
    return this.live.get(id)?.state ?? null;
  }

  /** @returns false for an out-of-order (stale) message, which is dropped */
  update(id: string, s: VehicleStateMsg, now: number): boolean {
    const l = this.live.get(id);
    if (!l) return false;
    if (l.state && s.seq <= l.state.seq && l.online) return false;
    l.state = s;
    l.receivedAt = now;
    l.online = true;
    if (s.link) l.latencyMs = s.link.rttMs;
    l.dirty = true;
    return true;
  }

  /**
   * A state relayed by the instance the bus is connected to (several instances, cluster/node.ts). Its sender
   * already dropped stale messages and pub/sub keeps its order, so there is no sequence check here.
   */
  applyRemote(id: string, s: VehicleStateMsg, receivedAt: number): void {
    const l = this.live.get(id);
    if (!l) return;
    l.state = s;
    l.receivedAt = receivedAt;
    l.online = true;
    if (s.link) l.latencyMs = s.link.rttMs;
    l.dirty = true;
  }

  setOnline(id: string, online: boolean): void {
    const l = this.live.get(id);
    if (!l || l.online === online) return;
    l.online = online;
    l.dirty = true;
  }
  setDriver(id: string, driver: string | null): void {
    const l = this.live.get(id);
    if (!l || l.driver === driver) return;
    l.driver = driver;
    l.dirty = true;
  }
  /** The teleoperation core's view of the bus (mode, holder, control latency, permitted speed). */
  setTeleop(id: string, t: TeleopFleetView): void {
    const l = this.live.get(id);
    if (!l) return;
    const p = l.teleop;
    if (p && p.mode === t.mode && p.driver === t.driver && p.latencyMs === t.latencyMs && p.permittedSpeed === t.permittedSpeed) return;
    l.teleop = { ...t };
    l.dirty = true;
  }
  setLatency(id: string, ms: number | null): void {
    const l = this.live.get(id);
    if (l) l.latencyMs = ms;
  }
  isOnline(id: string): boolean {
    return this.live.get(id)?.online ?? false;
  }
  onlineCount(): number {
    let n = 0;
    for (const l of this.live.values()) if (l.online) n++;
    return n;
  }

  private view(l: Live): FleetVehicle {
    const s = l.state;
    const t = l.teleop;
    const mode: VehicleMode = t ? t.mode : !l.online ? 'offline' : (s?.mode ?? 'standby');
    return {
      id: l.def.id,
      label: l.def.label,
      lat: s?.lat ?? l.def.start.lat,
      lon: s?.lon ?? l.def.start.lon,
      heading: s?.heading ?? 0,
      speed: s?.speed ?? 0,
      mode,
      soc: s?.soc ?? l.def.soc,
      doors: s?.doors ?? 'closed',
      occupancy: s?.occupancy ?? { seats: 0, wheelchairs: 0 },
      capacity: { seats: l.def.seats, wheelchairs: l.def.wheelchairPlaces },
      driver: t ? t.driver : l.driver,
      latencyMs: t ? t.latencyMs : l.latencyMs,
      permittedSpeed: t ? t.permittedSpeed : (s?.permittedSpeed ?? null),
      receivedAt: l.receivedAt,
      sentAt: s?.sentAt,
      online: l.online,
    };
  }

  /**
   * Every bus as last fanned out (not newer: a console that starts from this snapshot and then applies the deltas
   * must end where the others are; changes since then come with the next delta).
   */
  snapshot(t: number): FleetState {
    return { t, full: true, vehicles: [...this.live.values()].map((l) => l.sent) };
  }

  /** The buses that changed since the previous delta, each with only its changed fields; null when none did. */
  delta(t: number): FleetState | null {
    const changed: FleetVehicleDelta[] = [];
    for (const l of this.live.values()) {
      if (!l.dirty) continue;
      l.dirty = false;
      const v = this.view(l);
      const d = diffFleetVehicle(l.sent, v);
      l.sent = v;
      if (d) changed.push(d);
    }
    return changed.length ? { t, full: false, vehicles: changed } : null;
  }

  vehicle(id: string): FleetVehicle | null {
    const l = this.live.get(id);
    return l ? this.view(l) : null;
  }
  all(): FleetVehicle[] {
    return [...this.live.values()].map((l) => this.view(l));
  }
}

import { ManualClock } from '../core/clock.ts';
import { Rng } from '../core/rng.ts';
import { TeleopControlCenter, type VehicleOptions } from './controlCenter.ts';
import { stepSpeed, type Brake } from './mrmDynamics.ts';
import { isSimId, type Actor, type AuditRecord, type CommandRequest, type CommandType, type Result, type TeleopConfig, type VehicleCommand, type VehicleDirective } from './types.ts';
import { VehicleSafety } from './vehicleSafety.ts';

/**
 * A closed loop around the core, in simulated time, for property and fault-injection tests and the bench:
 * driver consoles (heartbeats at ~10 Hz with seeded jitter, commands), a console→server link, server→vehicle
 * and vehicle→server links (FIFO, one-way delay, can be cut per direction), the vehicle's safety layer and
 * its longitudinal dynamics. Everything advances only through `step(dtMs)` on a ManualClock.
 *
 * It also records what the safety proofs need (MRM starts on both sides, commands the vehicle accepted)
 * and checks the invariants on demand (`violations()`).
 */

/** FIFO link with a one-way delay; cutting it drops everything in flight. */
export class Link<T> {
  up = true;
  private q: { at: number; msg: T }[] = [];
  private lastAt = -Infinity;
  send(now: number, delayMs: number, msg: T): void {
    if (!this.up) return;
    const at = Math.max(now + delayMs, this.lastAt); // FIFO like a TCP stream
    this.lastAt = at;
    this.q.push({ at, msg });
  }
  due(now: number): T[] {
    let k = 0;
    while (k < this.q.length && this.q[k].at <= now) k++;
    if (k === 0) return [];
    return this.q.splice(0, k).map((e) => e.msg);
  }
  cut(): void {
    this.up = false;
    this.q = [];
  }
  restore(): void {
    this.up = true;
  }
}

type Uplink = { k: 'report'; speed: number; mode: VehicleSafety['mode']; stamp: number } | { k: 'ack'; cmd: VehicleCommand; res: Result<{ accepted: true }> };
type Downlink = { k: 'directive'; d: VehicleDirective } | { k: 'cmd'; cmd: VehicleCommand };
type ConsoleMsg = { k: 'hb'; vehicleId: string; sentAt: number } | { k: 'cmd'; cmd: CommandRequest };

export interface SimVehicle {
  id: string;
  safety: VehicleSafety;
  /** physical speed, m/s */
  speed: number;
  /** speed the bus would like to drive (its plan) */
  want: number;
  brake: Brake;
  maxSpeed: number;
  up: Link<Uplink>;
  down: Link<Downlink>;
  oneWayMs: number;
  jitterMs: number;
  nextReportAt: number;
  nextPingAt: number;
}

export interface SimConsole {
  actor: Actor;
  frozen: boolean;
  link: Link<ConsoleMsg>;
  oneWayMs: number;
  jitterMs: number;
  nextHbAt: number;
  nextPingAt: number;
  seq: Map<string, number>;
}

export interface AcceptedCommand {
  t: number;
  cmd: VehicleCommand;
  /** the core's holder when the server forwarded the command */
  holderAtForward: string | null;
  /** the core's holder, lease state and epoch when the vehicle accepted it */
  coreHolder: string | null;
  coreLease: 'active' | 'lapsed' | null;
  coreEpoch: number;
}

export interface WorldOptions {
  seed: number;
  t0?: number;
  vehicles: ({ id: string } & VehicleOptions & { oneWayMs?: number; jitterMs?: number })[];
  drivers: { id: string; role?: Actor['role']; oneWayMs?: number; jitterMs?: number }[];
  config?: Partial<TeleopConfig>;
  /** console heartbeat period and ± jitter (ms) */
  heartbeatMs?: number;
  heartbeatJitterMs?: number;
  reportMs?: number;
  pingMs?: number;
  /** extra RTT the vehicle link adds on top of 2 × one-way (e.g. a latency spike) */
  extraVehicleRttMs?: number;
}

export class TeleopWorld {
  readonly clock: ManualClock;
  readonly rng: Rng;
  readonly core: TeleopControlCenter;
  readonly vehicles = new Map<string, SimVehicle>();
  readonly consoles = new Map<string, SimConsole>();
  readonly audit: AuditRecord[] = [];
  readonly accepted: AcceptedCommand[] = [];
  /** console acks (the core's or, for forwarded commands, the vehicle's verdict) */
  readonly acks: { t: number; by: string; cmd: CommandRequest; res: Result<unknown> }[] = [];
  readonly maxStepMs: number;
  private readonly hbMs: number;
  private readonly hbJitter: number;
  private readonly reportMs: number;
  private readonly pingMs: number;
  private readonly extraRtt = new Map<string, number>();
  private readonly extraConsoleRtt = new Map<string, number>();
  private lastStepMs = 0;
  private largestStep = 0;
  /** all links without delay: server and vehicle see the same instant, so the stricter checks apply */
  readonly strict: boolean;
  private readonly forwardedBy = new Map<string, string | null>();

  constructor(readonly o: WorldOptions) {
    this.clock = new ManualClock(o.t0 ?? 1_750_000_000_000);
    this.rng = new Rng(o.seed);
    this.core = new TeleopControlCenter(this.clock, o.config);
    this.hbMs = o.heartbeatMs ?? 100;
    this.hbJitter = o.heartbeatJitterMs ?? 30;
    this.reportMs = o.reportMs ?? 100;
    this.pingMs = o.pingMs ?? 200;
    this.maxStepMs = 50;
    const now = this.clock.now();
    this.strict = o.vehicles.every((v) => !v.oneWayMs && !v.jitterMs) && o.drivers.every((d) => !d.oneWayMs && !d.jitterMs);
    for (const v of o.vehicles) {
      this.core.addVehicle(v.id, v);
      this.vehicles.set(v.id, {
        id: v.id,
        safety: new VehicleSafety(v.id, { deadManMs: this.core.config.leaseTimeoutMs, commandMaxAgeMs: this.core.config.commandMaxAgeMs }),
        speed: 0,
        want: 0,
        brake: 'hold',
        maxSpeed: 0,
        up: new Link(),
        down: new Link(),
        oneWayMs: v.oneWayMs ?? 0,
        jitterMs: v.jitterMs ?? 0,
        nextReportAt: now,
        nextPingAt: now,
      });
    }
    for (const d of o.drivers) {
      this.consoles.set(d.id, {
        actor: { id: d.id, role: d.role ?? 'driver' },
        frozen: false,
        link: new Link(),
        oneWayMs: d.oneWayMs ?? 0,
        jitterMs: d.jitterMs ?? 0,
        nextHbAt: now,
        nextPingAt: now,
        seq: new Map(),
      });
    }
  }

  get now(): number {
    return this.clock.now();
  }

  /** Connect every vehicle and take first RTT samples. */
  connectAll(): void {
    for (const v of this.vehicles.values()) this.core.vehicleLink(v.id, true);
    this.pings(true);
    this.flush();
  }

  // ---------------------------------------------------------------- driver actions (applied at the server now)

  actor(id: string): Actor {
    return this.consoles.get(id)?.actor ?? (isSimId(id) ? { id, role: 'sim' } : { id, role: 'driver' });
  }

  acquire(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['acquire']> {
    const r = this.core.acquire(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  release(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['release']> {
    const r = this.core.release(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  heartbeat(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['heartbeat']> {
    const r = this.core.heartbeat(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  handoverRequest(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['handoverRequest']> {
    const r = this.core.handoverRequest(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  handoverConfirm(driver: string, vehicleId: string, to: string): ReturnType<TeleopControlCenter['handoverConfirm']> {
    const r = this.core.handoverConfirm(this.actor(driver), vehicleId, to);
    this.flush();
    return r;
  }
  handoverCancel(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['handoverCancel']> {
    const r = this.core.handoverCancel(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  confirm(driver: string, vehicleId: string): ReturnType<TeleopControlCenter['confirmAfterSafeStop']> {
    const r = this.core.confirmAfterSafeStop(this.actor(driver), vehicleId);
    this.flush();
    return r;
  }
  ackCall(who: string, vehicleId: string): ReturnType<TeleopControlCenter['acknowledgeCall']> {
    const r = this.core.acknowledgeCall(this.actor(who), vehicleId);
    this.flush();
    return r;
  }
  passengerCall(vehicleId: string): ReturnType<TeleopControlCenter['passengerCall']> {
    const r = this.core.passengerCall(vehicleId);
    this.flush();
    return r;
  }

  /**
   * A console sends a command over its link (delay applies). `seqDelta` 1 is the normal next seq; 0 repeats,
   * negative goes back. `ageMs` back-dates issuedAt (a command that sat in a queue).
   */
  sendCommand(driver: string, vehicleId: string, type: CommandType, opts: { value?: number; seqDelta?: number; ageMs?: number } = {}): CommandRequest {
    const c = this.consoleFor(driver);
    const last = c.seq.get(vehicleId) ?? 0;
    const seq = Math.max(1, last + (opts.seqDelta ?? 1));
    c.seq.set(vehicleId, Math.max(last, seq));
    const cmd: CommandRequest = { vehicleId, seq, type, issuedAt: this.now - (opts.ageMs ?? 0), ...(type === 'speed_cap' ? { value: opts.value ?? 5 } : {}) };
    if (c.frozen) return cmd;
    c.link.send(this.now, this.delay(c.oneWayMs, c.jitterMs), { k: 'cmd', cmd });
    this.flush();
    return cmd;
  }

  /** sendCommand and return the console's ack if it is already back (always, on zero-delay links). */
  command(driver: string, vehicleId: string, type: CommandType, opts: { value?: number; seqDelta?: number; ageMs?: number } = {}): Result<unknown> | null {
    const cmd = this.sendCommand(driver, vehicleId, type, opts);
    for (let i = this.acks.length - 1; i >= 0; i--) {
      const a = this.acks[i];
      if (a.by === driver && a.cmd.vehicleId === vehicleId && a.cmd.seq === cmd.seq && a.cmd.type === type && a.cmd.issuedAt === cmd.issuedAt) return a.res;
    }
    return null;
  }

  // ---------------------------------------------------------------- faults

  freezeConsole(driver: string, frozen = true): void {
    this.consoleFor(driver).frozen = frozen;
  }
  cutVehicleLink(vehicleId: string, dir: 'both' | 'up' | 'down', notifyServer = false): void {
    const v = this.vehicleFor(vehicleId);
    if (dir !== 'down') v.up.cut();
    if (dir !== 'up') v.down.cut();
    if (notifyServer) this.core.vehicleLink(vehicleId, false);
    this.flush();
  }
  restoreVehicleLink(vehicleId: string, notifyServer = false): void {
    const v = this.vehicleFor(vehicleId);
    v.up.restore();
    v.down.restore();
    if (notifyServer) this.core.vehicleLink(vehicleId, true);
    this.flush();
  }
  setExtraVehicleRtt(vehicleId: string, ms: number): void {
    this.extraRtt.set(vehicleId, ms);
  }
  setExtraConsoleRtt(driver: string, ms: number): void {
    this.extraConsoleRtt.set(driver, ms);
  }
  setWant(vehicleId: string, speed: number): void {
    this.vehicleFor(vehicleId).want = speed;
  }

  // ---------------------------------------------------------------- time

  /** Advance by dtMs: dynamics, vehicle safety, reports, heartbeats, pings, deliveries, core tick. */
  step(dtMs: number): void {
    this.clock.advance(dtMs);
    this.lastStepMs = dtMs;
    this.largestStep = Math.max(this.largestStep, dtMs);
    const now = this.now;
    for (const v of this.vehicles.values()) {
      // physics over the elapsed interval with the brake decided at its start
      v.speed = stepSpeed(v.speed, dtMs, v.brake, Math.min(v.want, v.maxSpeed));
      if (v.speed < 1e-9) v.speed = 0;
      this.tickVehicle(v, now);
      if (now >= v.nextReportAt) {
        v.nextReportAt = now + this.reportMs;
        v.up.send(now, this.delay(v.oneWayMs, v.jitterMs), { k: 'report', speed: v.speed, mode: v.safety.mode, stamp: v.safety.stamp });
      }
    }
    for (const c of this.consoles.values()) {
      if (c.frozen || now < c.nextHbAt) continue;
      c.nextHbAt = now + this.hbMs + (this.hbJitter > 0 ? this.rng.int(-this.hbJitter, this.hbJitter) : 0);
      // a console heartbeats for the buses it holds or waits to take over (it learns that from fleet:state)
      for (const view of this.core.views()) {
        if ((view.holder === c.actor.id && view.leaseState === 'active') || view.pendingHandover?.to === c.actor.id) {
          c.link.send(now, this.delay(c.oneWayMs, c.jitterMs), { k: 'hb', vehicleId: view.vehicleId, sentAt: now });
        }
      }
    }
    this.pings(false);
    this.flush();
  }

  /** Run for `ms` in steps drawn from [minStep, maxStep] (seeded). */
  run(ms: number, minStep = 10, maxStep = 50): void {
    const end = this.now + ms;
    while (this.now < end) this.step(Math.min(end - this.now, this.rng.int(minStep, maxStep)));
  }

  /** Deliver everything due now, repeatedly (zero-delay links deliver within the same instant). */
  flush(): void {
    for (let guard = 0; guard < 100; guard++) {
      let moved = false;
      const now = this.now;
      for (const c of this.consoles.values()) {
        for (const m of c.link.due(now)) {
          moved = true;
          if (m.k === 'hb') this.core.heartbeat(c.actor, m.vehicleId, m.sentAt);
          else this.deliverCommand(c, m.cmd);
        }
      }
      for (const v of this.vehicles.values()) {
        for (const m of v.up.due(now)) {
          moved = true;
          if (m.k === 'report') this.core.vehicleReport(v.id, { speed: m.speed, mode: m.mode, stamp: m.stamp });
          else this.acks.push({ t: now, by: m.cmd.by, cmd: m.cmd, res: this.core.commandResult(m.cmd, m.res) });
        }
      }
      this.core.tick();
      for (const out of this.core.drain()) {
        if (out.kind === 'audit') this.audit.push(out.record);
        else if (out.kind === 'directive') {
          const v = this.vehicles.get(out.vehicleId);
          if (v) v.down.send(now, this.delay(v.oneWayMs, v.jitterMs), { k: 'directive', d: out.directive });
        }
      }
      for (const v of this.vehicles.values()) {
        for (const m of v.down.due(now)) {
          moved = true;
          if (m.k === 'directive') v.safety.onDirective(m.d, now, v.speed);
          else {
            const res = v.safety.onCommand(m.cmd, now, v.speed);
            if ('data' in res) {
              const view = this.core.view(v.id);
              this.accepted.push({ t: now, cmd: m.cmd, holderAtForward: this.forwardedBy.get(cmdKey(m.cmd)) ?? null, coreHolder: view?.holder ?? null, coreLease: view?.leaseState ?? null, coreEpoch: view?.epoch ?? 0 });
            }
            v.up.send(now, this.delay(v.oneWayMs, v.jitterMs), { k: 'ack', cmd: m.cmd, res });
          }
          this.tickVehicle(v, now);
        }
      }
      if (!moved) return;
    }
    throw new Error('world.flush did not settle');
  }

  private deliverCommand(c: SimConsole, cmd: CommandRequest): void {
    const r = this.core.command(c.actor, cmd);
    if ('error' in r) {
      this.acks.push({ t: this.now, by: c.actor.id, cmd, res: r });
      return;
    }
    this.forwardedBy.set(cmdKey(r.data.forward), this.core.view(cmd.vehicleId)?.holder ?? null);
    const v = this.vehicles.get(cmd.vehicleId);
    if (v) v.down.send(this.now, this.delay(v.oneWayMs, v.jitterMs), { k: 'cmd', cmd: r.data.forward });
  }

  private tickVehicle(v: SimVehicle, now: number): void {
    const out = v.safety.tick(now, v.speed);
    v.brake = out.brake;
    v.maxSpeed = out.maxSpeed;
  }

  /** RTT samples: a ping goes out and its pong returns only if both directions are up. */
  private pings(force: boolean): void {
    const now = this.now;
    for (const v of this.vehicles.values()) {
      if (!force && now < v.nextPingAt) continue;
      v.nextPingAt = now + this.pingMs;
      if (!v.up.up || !v.down.up) continue;
      const rtt = 2 * v.oneWayMs + (v.jitterMs > 0 ? this.rng.int(0, v.jitterMs) : 0) + (this.extraRtt.get(v.id) ?? 0);
      this.core.vehicleRtt(v.id, rtt);
    }
    for (const c of this.consoles.values()) {
      if (!force && now < c.nextPingAt) continue;
      c.nextPingAt = now + this.pingMs;
      if (c.frozen || !c.link.up) continue;
      this.core.consoleRtt(c.actor.id, 2 * c.oneWayMs + (c.jitterMs > 0 ? this.rng.int(0, c.jitterMs) : 0) + (this.extraConsoleRtt.get(c.actor.id) ?? 0));
    }
  }

  private delay(base: number, jitter: number): number {
    return jitter > 0 ? base + this.rng.int(0, jitter) : base;
  }

  consoleFor(id: string): SimConsole {
    let c = this.consoles.get(id);
    if (!c) {
      // simulated drivers and ad-hoc staff get a zero-delay console on first use
      c = { actor: this.actor(id), frozen: false, link: new Link(), oneWayMs: 0, jitterMs: 0, nextHbAt: Infinity, nextPingAt: Infinity, seq: new Map() };
      this.consoles.set(id, c);
    }
    return c;
  }
  vehicleFor(id: string): SimVehicle {
    const v = this.vehicles.get(id);
    if (!v) throw new Error(`no vehicle ${id}`);
    return v;
  }

  // ---------------------------------------------------------------- invariants

  /**
   * The safety invariants, checked on the current state (call after every action/step):
   * I1 never two holders: the core's holder is one id; the vehicle never obeys a lease other than the core's current one
   * I2 never a moving bus without a holder (physical speed > 0 ⇒ core holder ≠ null)
   * I3 lapse → MRM in time: no bus in remote with a human holder silent ≥ the lease timeout; each lapse of a
   *    bus in remote started its MRM at once, ≤ timeout + one step after the last heartbeat
   * I4 every command the vehicle accepted (except emergency stop) came from the core's holder of the same lease,
   *    was fresh (≤ max age) and had a seq above every earlier one of that lease
   * I5 a driver holds at most one moving bus (physical)
   * I6 mode ⇔ holder: standby/offline ⇒ no holder; remote ⇒ holder with an active lease
   * I7 on board: remote ⇒ a lease heartbeat received < deadMan ago
   * I8 (zero delay) the bus's speed limit never exceeds the permitted speed (latency formula, driver's cap)
   */
  violations(): string[] {
    const out: string[] = [];
    const now = this.now;
    const cfg = this.core.config;
    const movingByDriver = new Map<string, number>();
    for (const v of this.vehicles.values()) {
      const view = this.core.view(v.id)!;
      if (v.speed > 0 && view.holder === null) out.push(`I2 ${v.id} moves at ${v.speed.toFixed(2)} m/s without a holder (mode ${view.mode}, onboard ${v.safety.mode})`);
      if (this.strict && v.safety.holder !== null && v.safety.mode === 'remote' && v.safety.holder !== view.holder && v.speed > 0) {
        out.push(`I1 ${v.id} drives under ${v.safety.holder}'s lease while the core's holder is ${view.holder}`);
      }
      if (view.mode === 'remote' && view.holder && !isSimId(view.holder) && view.lastHeartbeatAt !== null && now - view.lastHeartbeatAt >= cfg.leaseTimeoutMs) {
        out.push(`I3 ${v.id} still in remote ${now - view.lastHeartbeatAt} ms after ${view.holder}'s last heartbeat`);
      }
      if ((view.mode === 'standby' || view.mode === 'offline') && view.holder !== null) out.push(`I6 ${v.id} in ${view.mode} with holder ${view.holder}`);
      if (view.mode === 'remote' && (view.holder === null || view.leaseState !== 'active')) out.push(`I6 ${v.id} in remote without an active lease`);
      if (v.safety.mode === 'remote' && (v.safety.lastLeaseAt === null || now - v.safety.lastLeaseAt >= cfg.leaseTimeoutMs)) out.push(`I7 ${v.id} on board in remote without a fresh lease`);
      // I8 the bus never may go faster than the latency formula (and the driver's cap) allow
      if (this.strict && view.mode === 'remote' && v.safety.mode === 'remote' && v.safety.speedLimit > view.permittedSpeed + 1e-9) {
        out.push(`I8 ${v.id} may drive ${v.safety.speedLimit} m/s, permitted ${view.permittedSpeed.toFixed(2)}`);
      }
      if (v.speed > 0 && view.holder && !isSimId(view.holder)) movingByDriver.set(view.holder, (movingByDriver.get(view.holder) ?? 0) + 1);
    }
    for (const [d, n] of movingByDriver) if (n > 1) out.push(`I5 ${d} holds ${n} moving buses`);
    return out;
  }

  /** I3 (audit part) and I4, over the whole history. */
  historyViolations(): string[] {
    const out: string[] = [];
    const cfg = this.core.config;
    for (let i = 0; i < this.audit.length; i++) {
      const r = this.audit[i];
      if (r.type !== 'teleop.lapse' || r.data.mode !== 'remote') continue;
      const sinceMs = r.data.sinceMs as number;
      if (sinceMs > cfg.leaseTimeoutMs + this.largestStep) out.push(`I3 lapse on ${r.vehicleId} detected ${sinceMs} ms after the last heartbeat`);
      const mrm = this.audit.slice(i + 1).find((x) => x.vehicleId === r.vehicleId && x.type === 'teleop.mrm');
      if (!mrm || mrm.t !== r.t) out.push(`I3 lapse on ${r.vehicleId} at ${r.t} without an MRM at once`);
    }
    const lastSeq = new Map<string, number>();
    for (const a of this.accepted) {
      if (a.cmd.type === 'emergency_stop') continue;
      // with delays the holder may change while a command is on the wire; the vehicle still only obeys the lease
      // it knows (server order), so there the check is on the server's side of the wire
      if (a.holderAtForward !== a.cmd.by) out.push(`I4 ${a.cmd.vehicleId} accepted ${a.cmd.type} from ${a.cmd.by}, forwarded while ${a.holderAtForward} held it`);
      if (this.strict && (a.coreHolder !== a.cmd.by || a.coreLease !== 'active' || a.coreEpoch !== a.cmd.epoch)) out.push(`I4 ${a.cmd.vehicleId} accepted ${a.cmd.type} from ${a.cmd.by} while the holder is ${a.coreHolder} (${a.coreLease})`);
      if (a.t - a.cmd.issuedAt > cfg.commandMaxAgeMs) out.push(`I4 ${a.cmd.vehicleId} accepted a ${a.t - a.cmd.issuedAt} ms old command`);
      const key = `${a.cmd.vehicleId}/${a.cmd.epoch}`;
      if ((lastSeq.get(key) ?? 0) >= a.cmd.seq) out.push(`I4 ${a.cmd.vehicleId} accepted seq ${a.cmd.seq} after ${lastSeq.get(key)}`);
      lastSeq.set(key, a.cmd.seq);
    }
    return out;
  }

  get lastStep(): number {
    return this.lastStepMs;
  }
  get largestStepMs(): number {
    return this.largestStep;
  }
}

function cmdKey(c: VehicleCommand): string {
  return `${c.vehicleId}/${c.epoch}/${c.seq}/${c.type}/${c.issuedAt}/${c.by}`;
}

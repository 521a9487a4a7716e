import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RoutingEngine } from '@kl/routing';
import { sharedEngine } from '../testing/server.ts';
import { runScenario } from './runner.ts';
import { parseScenario, ScenarioError, type Scenario } from './scenario.ts';

const fixture = (name: string) => parseScenario(JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../fixtures/scenarios', `${name}.json`), 'utf8')), name);

let engine: RoutingEngine;
beforeAll(async () => {
  engine = await sharedEngine();
});

async function run(sc: Scenario, seed?: number, fastLines = false) {
  const lines: string[] = [];
  const sink = fastLines ? { write: (e: object) => lines.push(JSON.stringify(e)), writeLine: (l: string) => lines.push(l) } : { write: (e: object) => lines.push(JSON.stringify(e)) };
  const res = await runScenario({ engine, scenario: sc, seed, sink });
  return { res, lines, events: lines.map((l) => JSON.parse(l) as Record<string, any>) };
}

describe('scenario runner', () => {
  it('same scenario and seed give a byte-identical event log; another seed differs', async () => {
    const sc = { ...fixture('morning-peak'), durationMin: 25 };
    const a = await run(sc);
    const b = await run(sc, undefined, true); // the CLI's hand-built lines must equal JSON.stringify's
    const hash = (l: string[]) => createHash('sha256').update(l.join('\n')).digest('hex');
    expect(a.lines.length).toBeGreaterThan(1000);
    expect(hash(a.lines)).toBe(hash(b.lines));
    const c = await run(sc, 99);
    expect(hash(c.lines)).not.toBe(hash(a.lines));
  });

  it('teststrecke: the bus drives TUK → Uni-Wohnstadt → PFAFF → TUK twice on real roads and stops at every stop', async () => {
    const { events } = await run(fixture('teststrecke'));
    const arrivals = events.filter((e) => e.type === 'script.arrive').map((e) => e.stop);
    expect(arrivals).toHaveLength(6);
    const states = events.filter((e) => e.type === 'vehicle');
    expect(states.length).toBeGreaterThan(45 * 60 - 5);
    // vehicle states at 1 Hz of simulated time, positions on the road (moving, then standing at stops)
    expect(new Set(states.map((s) => `${s.lat},${s.lon}`)).size).toBeGreaterThan(500);
    expect(Math.max(...states.map((s) => s.speed))).toBeLessThanOrEqual(80 / 3.6);
    expect(states.some((s) => s.doors === 'open')).toBe(true);
  });

  it('morning-peak: ≥ 300 requests, mostly hub trips; promises are kept when nothing goes wrong', async () => {
    const sc = fixture('morning-peak');
    const { res, events } = await run(sc);
    expect(res.kpis.requests).toBeGreaterThanOrEqual(300);
    const req = events.filter((e) => e.type === 'request');
    expect(res.trips.filter((t) => t.hubId).length / req.length).toBeGreaterThan(0.75);
    expect(res.kpis.served).toBeGreaterThan(150);
    expect(res.kpis.promisesKeptPct).toBeGreaterThanOrEqual(85);
    expect(res.kpis.vehicleKm).toBeGreaterThan(100);
    for (const k of ['waitTimeS', 'inVehicleTimeS', 'detourFactor', 'occupancy', 'emptyKmShare', 'energyKWh', 'driverUtilisation'] as const) expect(res.kpis[k]).not.toBeNull();
  });

  it('faults: link losses end in a safe stop and a re-acquire, the breakdown strands nobody silently, the closure is avoided', async () => {
    const { events } = await run(fixture('faults'));
    const types = events.map((e) => e.type);
    for (const t of ['fault.link_loss', 'teleop.mrm', 'teleop.safe_stop', 'teleop.reacquire', 'fault.latency_spike', 'fault.breakdown', 'fault.road_closure', 'fault.road_reopened']) expect(types).toContain(t);
    const breakdown = events.find((e) => e.type === 'fault.breakdown')!;
    expect(breakdown.onboard.seats + breakdown.onboard.wheelchairs).toBeGreaterThan(0);
    expect(types).toContain('rescue');
    // every link loss is followed by a safe stop of that bus with speed 0
    for (const f of events.filter((e) => e.type === 'fault.link_loss')) {
      const stop = events.find((e) => e.type === 'teleop.safe_stop' && e.vehicleId === f.vehicleId && e.t >= f.t)!;
      expect(stop).toBeDefined();
      const st = events.find((e) => e.type === 'vehicle' && e.vehicleId === f.vehicleId && e.t >= stop.t)!;
      expect(st.speed).toBe(0);
    }
    // while Trippstadter Straße is closed, no bus drives on it
    const closure = events.find((e) => e.type === 'fault.road_closure')!;
    const reopened = events.find((e) => e.type === 'fault.road_reopened')!;
    const segs = new Set(engine.segmentsNamed('Trippstadter Straße'));
    const onClosed = events.filter((e) => e.type === 'vehicle' && e.t > closure.t + 60_000 && e.t < reopened.t && e.speed > 1).filter((e) => {
      const p = engine.snap(e.lat, e.lon);
      return p.snapDistance < 2 && segs.has(p.seg);
    });
    expect(onClosed.length).toBeLessThan(5);
  });

  it('a scenario with a bad field is refused with the field named', () => {
    const bad = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../../fixtures/scenarios/morning-peak.json'), 'utf8'));
    bad.fleet[2].seats = 4;
    bad.faults = [{ type: 'breakdown', atMin: 10, vehicleId: 'bus-99' }];
    try {
      parseScenario(bad, 'x.json');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(ScenarioError);
      const paths = (e as ScenarioError).issues.map((i) => i.path);
      expect(paths).toContain('fleet[2].seats');
      expect(paths).toContain('faults[0].vehicleId');
      expect((e as Error).message).toMatch(/fleet\[2\]\.seats: .*8/);
    }
  });
});

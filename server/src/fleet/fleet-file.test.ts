import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES_DIR } from '@kl/routing/fixtures.ts';
import { configFromEnv } from '../config.ts';
import { loadFleetFile } from './fleet-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'kl-fleet-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bus = (id: string) => ({ id, label: `L ${id}`, seats: 8, wheelchairPlaces: 1, batteryKWh: 80, start: { lat: 49.43, lon: 7.75 }, soc: 0.9 });
function file(name: string, content: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content));
  return p;
}

describe('fleet file (fixtures/fleet.json or FLEET_FILE)', () => {
  it('loads the demo fleet, marked demo', () => {
    const f = loadFleetFile(join(FIXTURES_DIR, 'fleet.json'));
    expect(f.demo).toBe(true);
    expect(f.vehicles.length).toBeGreaterThanOrEqual(8);
    expect(f.vehicles.every((v) => v.keyHash?.startsWith('scrypt$'))).toBe(true);
  });

  it('refuses a wrong field, a duplicate id, an empty fleet and a file that is not JSON, naming the reason', () => {
    expect(() => loadFleetFile(file('typo.json', { vehicles: [{ ...bus('a'), seats: '8' }] }))).toThrow(/vehicles\.0\.seats/);
    expect(() => loadFleetFile(file('extra.json', { vehicles: [{ ...bus('a'), sets: 8 }] }))).toThrow(/fleet file .*extra\.json/);
    expect(() => loadFleetFile(file('dup.json', { vehicles: [bus('a'), bus('a')] }))).toThrow(/unique/);
    expect(() => loadFleetFile(file('empty.json', { vehicles: [] }))).toThrow(/vehicles/);
    expect(() => loadFleetFile(file('broken.json', '{"vehicles": ['))).toThrow(/broken\.json/);
    expect(loadFleetFile(file('ok.json', { vehicles: [bus('a'), bus('b')] }))).toMatchObject({ demo: false, vehicles: [{ id: 'a' }, { id: 'b' }] });
  });

  it('FLEET_FILE is read from the environment', () => {
    expect(configFromEnv({ FLEET_FILE: '/etc/kl/fleet.json' }).fleetFile).toBe('/etc/kl/fleet.json');
    expect(configFromEnv({}).fleetFile).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import {
  acquireSchema,
  commandSchema,
  handoverConfirmSchema,
  heartbeatSchema,
  pingSchema,
  vehicleCommandSchema,
  vehicleDirectiveSchema,
} from './protocol.ts';

/** Socket payloads: strict objects with sane bounds. */
describe('teleop socket payloads', () => {
  const T = 1_750_000_000_000;
  it('accepts well-formed payloads', () => {
    expect(acquireSchema.safeParse({ vehicleId: 'bus-1' }).success).toBe(true);
    expect(heartbeatSchema.safeParse({ vehicleId: 'bus-1', sentAt: T }).success).toBe(true);
    expect(handoverConfirmSchema.safeParse({ vehicleId: 'bus-1', to: 'driver.anna' }).success).toBe(true);
    expect(commandSchema.safeParse({ vehicleId: 'bus-1', seq: 1, type: 'stop', issuedAt: T }).success).toBe(true);
    expect(commandSchema.safeParse({ vehicleId: 'bus-1', seq: 2, type: 'speed_cap', value: 8.3, issuedAt: T }).success).toBe(true);
    expect(pingSchema.safeParse({ n: 3, t: T }).success).toBe(true);
    expect(vehicleDirectiveSchema.safeParse({ type: 'lease', holder: 'd1', epoch: T, stamp: T + 1, speedCap: 13 }).success).toBe(true);
    expect(vehicleCommandSchema.safeParse({ vehicleId: 'bus-1', seq: 0, type: 'emergency_stop', issuedAt: T, by: 'disp', epoch: 0 }).success).toBe(true);
  });

  it.each([
    ['unknown field', acquireSchema, { vehicleId: 'bus-1', force: true }],
    ['empty vehicle id', acquireSchema, { vehicleId: '' }],
    ['vehicle id with spaces', acquireSchema, { vehicleId: 'bus 1' }],
    ['vehicle id too long', acquireSchema, { vehicleId: 'b'.repeat(65) }],
    ['heartbeat without sentAt', heartbeatSchema, { vehicleId: 'bus-1' }],
    ['negative sentAt', heartbeatSchema, { vehicleId: 'bus-1', sentAt: -1 }],
    ['fractional seq', commandSchema, { vehicleId: 'bus-1', seq: 1.5, type: 'stop', issuedAt: T }],
    ['seq 0', commandSchema, { vehicleId: 'bus-1', seq: 0, type: 'stop', issuedAt: T }],
    ['unknown command', commandSchema, { vehicleId: 'bus-1', seq: 1, type: 'fly', issuedAt: T }],
    ['speed_cap without value', commandSchema, { vehicleId: 'bus-1', seq: 1, type: 'speed_cap', issuedAt: T }],
    ['speed_cap over 60 m/s', commandSchema, { vehicleId: 'bus-1', seq: 1, type: 'speed_cap', value: 61, issuedAt: T }],
    ['value on stop', commandSchema, { vehicleId: 'bus-1', seq: 1, type: 'stop', value: 3, issuedAt: T }],
    ['issuedAt as ISO string', commandSchema, { vehicleId: 'bus-1', seq: 1, type: 'stop', issuedAt: '2025-06-04T07:00:00Z' }],
    ['handover to nobody', handoverConfirmSchema, { vehicleId: 'bus-1', to: '' }],
    ['unknown directive', vehicleDirectiveSchema, { type: 'drive_faster', stamp: T }],
    ['unknown MRM reason', vehicleDirectiveSchema, { type: 'mrm', reason: 'because', stamp: T }],
  ] as const)('refuses %s', (_name, schema, payload) => {
    expect(schema.safeParse(payload).success).toBe(false);
  });
});

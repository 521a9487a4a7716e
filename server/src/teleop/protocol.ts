import { z } from 'zod';
import { COMMAND_TYPES } from './types.ts';
import type { Result, VehicleCommand, VehicleDirective } from './types.ts';

/**
 * Socket payloads of teleoperation (zod, strict objects: unknown fields are refused so a typo never changes
 * meaning). Leitstand console → server: `teleop:*`; server ↔ vehicle: `teleop:directive`, `teleop:command`,
 * `vehicle:passenger_call`; both links: ping/pong for RTT. Every client event is acknowledged with
 * `{data}` | `{error:{code,message}}` (the core's `Result`).
 */
const MAX_EPOCH_MS = 8.64e15;
export const vehicleIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'not a vehicle id');
export const userIdSchema = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'not a user id');
const epochMs = z.number().int().min(0).max(MAX_EPOCH_MS);

export const acquireSchema = z.strictObject({ vehicleId: vehicleIdSchema });
export const releaseSchema = z.strictObject({ vehicleId: vehicleIdSchema });
export const heartbeatSchema = z.strictObject({ vehicleId: vehicleIdSchema, sentAt: epochMs });
export const handoverRequestSchema = z.strictObject({ vehicleId: vehicleIdSchema });
export const handoverConfirmSchema = z.strictObject({ vehicleId: vehicleIdSchema, to: userIdSchema });
export const handoverCancelSchema = z.strictObject({ vehicleId: vehicleIdSchema });
/** leave safe_stop / emergency_stop (the actor must hold the bus) */
export const confirmStopSchema = z.strictObject({ vehicleId: vehicleIdSchema });
export const ackCallSchema = z.strictObject({ vehicleId: vehicleIdSchema });

/** speed_cap carries a value in m/s (0 … 60, same bound as vehicle:state speed); every other type carries none. */
export const commandSchema = z
  .strictObject({
    vehicleId: vehicleIdSchema,
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    type: z.enum(COMMAND_TYPES),
    value: z.number().min(0).max(60).optional(),
    issuedAt: epochMs,
  })
  .refine((c) => (c.type === 'speed_cap') === (c.value !== undefined), {
    message: 'speed_cap needs value (m/s); other commands take none',
    path: ['value'],
  });
export type CommandPayload = z.infer<typeof commandSchema>;

/**
 * RTT measurement on both links, server-clock only (no clock sync needed): the server sends
 * `teleop:ping {n, t}` with its own time; the peer echoes it unchanged as `teleop:pong {n, t}`; RTT = now − t.
 */
export const pingSchema = z.strictObject({ n: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), t: epochMs });
export const pongSchema = pingSchema;

// ---- server → vehicle (the vehicle agent validates what it receives, too)

const stamp = z.number().int().min(0).max(MAX_EPOCH_MS);
export const vehicleDirectiveSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('lease'), holder: z.string().min(1).max(80), epoch: stamp, stamp, speedCap: z.number().min(0).max(60) }),
  z.strictObject({ type: z.literal('lease_end'), epoch: stamp, stamp }),
  z.strictObject({
    type: z.literal('mrm'),
    reason: z.enum(['lease_lapsed', 'vehicle_link_lost', 'latency_over_limit', 'latency_unknown', 'vehicle_initiated', 'unexpected_motion', 'dead_man', 'lease_end_moving']),
    stamp,
  }),
  z.strictObject({ type: z.literal('speed_cap'), value: z.number().min(0).max(60), stamp }),
  z.strictObject({ type: z.literal('clear_stop'), holder: z.string().min(1).max(80), epoch: stamp, stamp }),
]);

export const vehicleCommandSchema = z.strictObject({
  vehicleId: vehicleIdSchema,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  type: z.enum(COMMAND_TYPES),
  value: z.number().min(0).max(60).optional(),
  issuedAt: epochMs,
  by: z.string().min(1).max(80),
  epoch: stamp,
});

/** vehicle → server: a passenger pressed the call button */
export const passengerCallSchema = z.strictObject({ at: epochMs.optional() });

/**
 * Field the vehicle should add to `vehicle:state` (protocol/schemas.ts) so the core can tell a current report
 * from one sent before the vehicle applied the latest directive: the highest directive `stamp` it has applied.
 */
export const teleopStampSchema = z.number().int().min(0).max(MAX_EPOCH_MS);

// compile-time checks that the schemas and the core's types agree
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _directiveMatches: Same<z.infer<typeof vehicleDirectiveSchema>, VehicleDirective> = true;
const _commandMatches: Same<z.infer<typeof vehicleCommandSchema>, VehicleCommand> = true;
void _directiveMatches;
void _commandMatches;

// ---- typed event maps for the socket layer (to merge into protocol/events.ts)

export type TeleopAck<T> = (res: Result<T>) => void;
export interface TeleopLeitstandClientToServer {
  'teleop:acquire': (p: z.infer<typeof acquireSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:release': (p: z.infer<typeof releaseSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:heartbeat': (p: z.infer<typeof heartbeatSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:handover_request': (p: z.infer<typeof handoverRequestSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:handover_confirm': (p: z.infer<typeof handoverConfirmSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:handover_cancel': (p: z.infer<typeof handoverCancelSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:confirm_stop': (p: z.infer<typeof confirmStopSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:command': (p: CommandPayload, ack: TeleopAck<{ accepted: true }>) => void;
  'teleop:ack_call': (p: z.infer<typeof ackCallSchema>, ack: TeleopAck<unknown>) => void;
  'teleop:pong': (p: z.infer<typeof pongSchema>) => void;
}
export interface TeleopVehicleServerToClient {
  'teleop:directive': (d: VehicleDirective) => void;
  'teleop:command': (c: VehicleCommand, ack: TeleopAck<{ accepted: true }>) => void;
  'teleop:ping': (p: z.infer<typeof pingSchema>) => void;
}

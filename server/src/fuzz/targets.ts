import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import ts from 'typescript';
import type { ZodType } from 'zod';
import type { LeitstandClientToServer, RiderClientToServer, VehicleClientToServer } from '../protocol/events.ts';
import { bookingCreateSchema, confirmBookingSchema, stopEventSchema, vehicleStateSchema } from '../protocol/schemas.ts';
import { planGetSchema } from '../fleet/realtime.ts';
import { replaySchemas } from '../replay/replay.ts';
import * as teleop from '../teleop/protocol.ts';
import { alertAckSchema, consoleHeartbeatSchema } from '../teleop/service.ts';

/**
 * What the fuzzer aims at. REST routes come from the app's route table at run time (nothing listed here), socket
 * events from three sources that must agree:
 * - the typed protocol: every `*ClientToServer` interface of protocol/events.ts, read with the TypeScript
 *   compiler (event names, and whether the event takes a payload and an ack);
 * - the server itself: the listeners a connected socket really has (so undeclared events such as replay:* are
 *   covered as well);
 * - the schema registry below, which the compiler keeps complete for every declared event (`satisfies`).
 * An event the server handles but the registry misses is still fuzzed, with generic hostile payloads.
 */

/** The event takes no payload (only an ack). */
export const NO_PAYLOAD = 'no-payload' as const;
export type SocketSchema = ZodType | typeof NO_PAYLOAD;

const vehicleEvents = {
  'vehicle:state': vehicleStateSchema,
  'vehicle:stop': stopEventSchema,
  'teleop:pong': teleop.pongSchema,
  'vehicle:passenger_call': teleop.passengerCallSchema.optional(),
} satisfies Record<keyof VehicleClientToServer, SocketSchema>;

const leitstandEvents = {
  'fleet:snapshot': NO_PAYLOAD,
  'booking:create': bookingCreateSchema,
  'booking:confirm': confirmBookingSchema,
  'plan:get': planGetSchema,
  'teleop:acquire': teleop.acquireSchema,
  'teleop:release': teleop.releaseSchema,
  'teleop:heartbeat': consoleHeartbeatSchema,
  'teleop:handover_request': teleop.handoverRequestSchema,
  'teleop:handover_confirm': teleop.handoverConfirmSchema,
  'teleop:handover_cancel': teleop.handoverCancelSchema,
  'teleop:confirm_stop': teleop.confirmStopSchema,
  'teleop:command': teleop.commandSchema,
  'teleop:ack_call': teleop.ackCallSchema,
  'teleop:pong': teleop.pongSchema,
  'teleop:snapshot': NO_PAYLOAD,
  'alert:ack': alertAckSchema,
} satisfies Record<keyof LeitstandClientToServer, SocketSchema>;

const riderEvents = {
  'booking:confirm': confirmBookingSchema,
  'bookings:snapshot': NO_PAYLOAD,
} satisfies Record<keyof RiderClientToServer, SocketSchema>;

/** Replay (replay/replay.ts) lives on /leitstand without a declaration in events.ts. */
const replayEvents: Record<string, SocketSchema> = {
  'replay:list': NO_PAYLOAD,
  'replay:open': replaySchemas.open,
  'replay:play': replaySchemas.play,
  'replay:pause': NO_PAYLOAD,
  'replay:seek': replaySchemas.seek,
  'replay:speed': replaySchemas.speed,
  'replay:series': replaySchemas.series,
  'replay:close': NO_PAYLOAD,
};

export const SOCKET_SCHEMAS: Record<string, Record<string, SocketSchema>> = {
  '/vehicle': vehicleEvents,
  '/leitstand': { ...leitstandEvents, ...replayEvents },
  '/rider': riderEvents,
};

export interface DeclaredEvent {
  namespace: string;
  event: string;
  payload: boolean;
  ack: boolean;
}

const EVENTS_FILE = resolve(import.meta.dirname, '..', 'protocol', 'events.ts');

/**
 * Every client → server event declared in protocol/events.ts: interfaces named `<Ns>ClientToServer` map to the
 * namespace `/<ns>`; a parameter named `ack` (or typed `AckFn<…>`) marks an acknowledged event.
 */
export function declaredEvents(file = EVENTS_FILE): DeclaredEvent[] {
  const src = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out: DeclaredEvent[] = [];
  src.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const m = /^(\w+)ClientToServer$/.exec(node.name.text);
    if (!m) return;
    const namespace = `/${m[1].toLowerCase()}`;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !member.name || !member.type || !ts.isFunctionTypeNode(member.type)) continue;
      const event = ts.isStringLiteral(member.name) || ts.isIdentifier(member.name) ? member.name.text : member.name.getText(src);
      const params = member.type.parameters;
      const isAck = (p: ts.ParameterDeclaration) => p.name.getText(src) === 'ack' || /^AckFn\b/.test(p.type?.getText(src) ?? '');
      const ack = params.some(isAck);
      out.push({ namespace, event, ack, payload: params.filter((p) => !isAck(p)).length > 0 });
    }
  });
  return out;
}

/** socket.io's own events and EventEmitter bookkeeping, never sent by a client. */
export const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'error', 'newListener', 'removeListener']);

export interface SocketTarget {
  namespace: string;
  event: string;
  /** undefined: the server handles it but the registry has no schema (fuzzed with generic payloads) */
  schema: SocketSchema | undefined;
  /** the client expects an answer (declared with an ack; undeclared events are assumed to answer) */
  ack: boolean;
  declared: boolean;
  handled: boolean;
}

/** Merge the declared events, the events the server really listens to per namespace, and the registry. */
export function socketTargets(handled: Record<string, string[]>, declared = declaredEvents()): SocketTarget[] {
  const out = new Map<string, SocketTarget>();
  for (const d of declared) {
    out.set(`${d.namespace} ${d.event}`, {
      namespace: d.namespace,
      event: d.event,
      schema: SOCKET_SCHEMAS[d.namespace]?.[d.event],
      ack: d.ack,
      declared: true,
      handled: (handled[d.namespace] ?? []).includes(d.event),
    });
  }
  for (const [namespace, events] of Object.entries(handled)) {
    for (const event of events) {
      if (RESERVED_EVENTS.has(event) || out.has(`${namespace} ${event}`)) continue;
      out.set(`${namespace} ${event}`, { namespace, event, schema: SOCKET_SCHEMAS[namespace]?.[event], ack: true, declared: false, handled: true });
    }
  }
  return [...out.values()];
}

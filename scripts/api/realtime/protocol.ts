/**
 * The Phoenix wire formats realtime-js speaks. `vsn=1.0.0`: every frame is a JSON object
 * `{join_ref, ref, topic, event, payload}`. `vsn=2.0.0` (realtime-js's default): JSON arrays
 * `[join_ref, ref, topic, event, payload]`, plus binary frames for broadcasts: a client pushes
 * "user broadcast push" frames (kind 3) and receives "user broadcast" frames (kind 4), as
 * Realtime's V2Serializer frames them.
 */
export type Vsn = "1.0.0" | "2.0.0";

export interface InboundMessage {
  joinRef: string | null;
  ref: string | null;
  topic: string;
  event: string;
  payload: unknown;
  /** What a binary broadcast push carries, null if its JSON is malformed (JSON pushes use `payload`). */
  broadcast?: BroadcastBody | null;
}

/**
 * What one broadcast carries: its event and its user payload, JSON text or raw bytes. The JSON is
 * spliced into frames as is: client text must come through `reserializeJson`.
 */
export interface BroadcastBody {
  event: string;
  json?: string;
  bytes?: Uint8Array;
}

const USER_BROADCAST_PUSH = 3;
const USER_BROADCAST = 4;
const BINARY_ENCODING = 0;
const JSON_ENCODING = 1;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Reads a client frame in either version (the shapes cannot be confused). */
export function decodeFrame(data: string | ArrayBuffer): InboundMessage {
  if (typeof data !== "string") return decodeBroadcastPush(new Uint8Array(data));
  const parsed = JSON.parse(data);
  if (Array.isArray(parsed)) {
    const [joinRef, ref, topic, event, payload] = parsed;
    return { joinRef, ref, topic, event, payload };
  }
  return {
    joinRef: parsed.join_ref ?? null,
    ref: parsed.ref ?? null,
    topic: parsed.topic,
    event: parsed.event,
    payload: parsed.payload,
  };
}

/** Kind 3: lengths of join_ref, ref, topic, event and metadata, the payload encoding, then the bytes. */
function decodeBroadcastPush(frame: Uint8Array): InboundMessage {
  if (frame[0] !== USER_BROADCAST_PUSH) throw new Error(`unsupported binary frame kind ${frame[0]}`);
  const [joinRefSize, refSize, topicSize, eventSize, metadataSize, encoding] = frame.subarray(1, 7);
  let offset = 7;
  const take = (size: number) => fromUtf8.decode(frame.subarray(offset, offset += size));
  const joinRef = take(joinRefSize);
  const ref = take(refSize);
  const topic = take(topicSize);
  const event = take(eventSize);
  take(metadataSize); // only `persist` (replay), which this stand-in does not store
  const payload = frame.slice(offset);
  let broadcast: BroadcastBody | null = { event, bytes: payload };
  if (encoding === JSON_ENCODING) {
    const json = reserializeJson(fromUtf8.decode(payload));
    broadcast = json === null ? null : { event, json };
  }
  return { joinRef: joinRef || null, ref: ref || null, topic, event: "broadcast", payload: null, broadcast };
}

/** Client JSON text parsed and serialized again (one well-formed value), or null if malformed. */
export function reserializeJson(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return null;
  }
}

/** The broadcast a JSON push carries (`{type: "broadcast", event, payload}`). */
export function broadcastOfJson(payload: unknown): BroadcastBody | null {
  if (typeof payload !== "object" || payload === null) return null;
  const { event, payload: userPayload } = payload as { event?: unknown; payload?: unknown };
  if (typeof event !== "string") return null;
  return { event, json: JSON.stringify(userPayload ?? {}) };
}

/** Encodes server frames for one socket's protocol version. */
export class Encoder {
  constructor(readonly vsn: Vsn) {}

  /** A message whose payload is already JSON text (fan-out serializes it once). */
  raw(joinRef: string | null, ref: string | null, topic: string, event: string, payloadJson: string): string {
    const [j, r, t, e] = [joinRef, ref, topic, event].map((x) => JSON.stringify(x));
    return this.vsn === "2.0.0"
      ? `[${j},${r},${t},${e},${payloadJson}]`
      : `{"join_ref":${j},"ref":${r},"topic":${t},"event":${e},"payload":${payloadJson}}`;
  }

  message(
    joinRef: string | null,
    ref: string | null,
    topic: string,
    event: string,
    payload: unknown,
  ): string {
    return this.raw(joinRef, ref, topic, event, JSON.stringify(payload));
  }

  reply(
    joinRef: string | null,
    ref: string | null,
    topic: string,
    status: "ok" | "error",
    response: unknown,
  ) {
    return this.message(joinRef, ref, topic, "phx_reply", { status, response });
  }

  /**
   * A broadcast to a subscriber of `topic`: a binary user broadcast frame for vsn 2.0.0, a JSON
   * `broadcast` message for 1.0.0 (which cannot carry binary payloads: those are dropped, as
   * Realtime does). `meta` is `{id}` for broadcasts from the database.
   */
  broadcast(topic: string, body: BroadcastBody, meta?: Record<string, unknown>): string | Uint8Array | null {
    if (this.vsn === "1.0.0") {
      if (body.json === undefined) return null;
      const metaJson = meta ? `,"meta":${JSON.stringify(meta)}` : "";
      const payload = `{"event":${
        JSON.stringify(body.event)
      },"payload":${body.json},"type":"broadcast"${metaJson}}`;
      return this.raw(null, null, topic, "broadcast", payload);
    }
    const topicBytes = utf8.encode(topic);
    const eventBytes = utf8.encode(body.event);
    const metaBytes = utf8.encode(meta ? JSON.stringify(meta) : "");
    const payloadBytes = body.bytes ?? utf8.encode(body.json);
    if (Math.max(topicBytes.length, eventBytes.length, metaBytes.length) > 255) return null;
    const frame = new Uint8Array(
      5 + topicBytes.length + eventBytes.length + metaBytes.length + payloadBytes.length,
    );
    frame.set([
      USER_BROADCAST,
      topicBytes.length,
      eventBytes.length,
      metaBytes.length,
      body.bytes ? BINARY_ENCODING : JSON_ENCODING,
    ]);
    let offset = 5;
    for (const part of [topicBytes, eventBytes, metaBytes, payloadBytes]) {
      frame.set(part, offset);
      offset += part.length;
    }
    return frame;
  }
}

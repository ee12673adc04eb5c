/**
 * Realtime (/realtime/v1), the subset supabase-js uses: the websocket (Phoenix channels:
 * postgres_changes with RLS, Broadcast between clients and from the database, private channels
 * authorized by RLS on realtime.messages, token refresh) and the REST broadcast endpoints. Presence
 * is accepted but not tracked; broadcast replay and persistence are not offered. See ./realtime/.
 */
import {
  type ApiContext,
  ApiError,
  callerOf,
  decodePathSegment,
  json,
  payloadTooLarge,
  readBoundedBytes,
  readBoundedText,
  requireApiKey,
  type Service,
} from "./context.ts";
import { canWriteBroadcast } from "./realtime/auth.ts";
import { RealtimeHub, topicKey } from "./realtime/hub.ts";
import { type BroadcastBody, reserializeJson, type Vsn } from "./realtime/protocol.ts";

const PREFIX = "/realtime/v1";
const VERSIONS: Vsn[] = ["1.0.0", "2.0.0"];
/** A cap on REST broadcast bodies (Realtime limits payloads per tenant; this one is generous). */
const BROADCAST_BODY_LIMIT = 3 * 1024 * 1024;
const tooLarge = () => payloadTooLarge(BROADCAST_BODY_LIMIT);

/** One hub per running API, created with its first socket and stopped with the API. */
const hubs = new WeakMap<ApiContext, RealtimeHub>();

function hubOf(ctx: ApiContext): RealtimeHub {
  let hub = hubs.get(ctx);
  if (!hub) {
    const created = hub = new RealtimeHub(ctx);
    hubs.set(ctx, created);
    ctx.onClose.push(() => created.close());
  }
  return hub;
}

export const realtime: Service = async (req, ctx) => {
  const { pathname } = new URL(req.url);
  if (pathname === `${PREFIX}/websocket`) return openSocket(req, ctx);
  if (pathname === `${PREFIX}/api/broadcast` || pathname.startsWith(`${PREFIX}/api/broadcast/`)) {
    return await restBroadcast(req, ctx, pathname.slice(`${PREFIX}/api/broadcast`.length));
  }
  const feature = pathname.slice(PREFIX.length) || "/";
  return json({
    message: `Realtime ${req.method} ${feature} is not part of the local API's subset of Supabase`,
  }, 501);
};

function openSocket(req: Request, ctx: ApiContext): Response {
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return json({ message: "Realtime's websocket endpoint expects a websocket upgrade" }, 400);
  }
  requireApiKey(req);
  const params = new URL(req.url).searchParams;
  const vsn = (params.get("vsn") ?? "1.0.0") as Vsn;
  if (!VERSIONS.includes(vsn)) return json({ message: `Unsupported serializer version: ${vsn}` }, 400);
  const apiKey = req.headers.get("apikey") ?? params.get("apikey")!;
  const { socket, response } = Deno.upgradeWebSocket(req);
  const hub = hubOf(ctx);
  // The replication stream starts with the first socket, so that joins find it running.
  hub.replicationReady().catch((error) => console.error("[realtime] replication:", error));
  hub.connect(socket, vsn, apiKey);
  return response;
}

interface RestMessage {
  topic: string;
  event: string;
  body: BroadcastBody;
  private: boolean;
}

/**
 * POST /api/broadcast `{messages: [{topic, event, payload, private}]}` (send() before a channel
 * joined), and POST /api/broadcast/<topic>/events/<event> with the payload as body (httpSend).
 * Private messages need the caller's write permission on the topic, as on a channel.
 */
async function restBroadcast(req: Request, ctx: ApiContext, rest: string): Promise<Response> {
  if (req.method !== "POST") {
    return json({ message: `Realtime ${req.method} /api/broadcast${rest} is not supported` }, 405);
  }
  requireApiKey(req);
  const caller = await callerOf(req);
  const single = rest.match(/^\/([^/]+)\/events\/([^/]+)$/);
  let messages: RestMessage[];
  if (single) {
    const isBinary = req.headers.get("content-type")?.startsWith("application/octet-stream");
    const [topic, event] = [single[1], single[2]].map((segment) =>
      decodePathSegment(segment, () => new ApiError(400, { message: `Malformed path segment: ${segment}` }))
    );
    let body: BroadcastBody;
    if (isBinary) body = { event, bytes: await readBoundedBytes(req, BROADCAST_BODY_LIMIT, tooLarge) };
    else {
      const json = reserializeJson(await readBoundedText(req, BROADCAST_BODY_LIMIT, tooLarge));
      if (json === null) throw new ApiError(400, { message: "The payload must be JSON" });
      body = { event, json };
    }
    messages = [{
      topic,
      event,
      body,
      private: new URL(req.url).searchParams.get("private") === "true",
    }];
  } else if (rest === "") {
    const text = await readBoundedText(req, BROADCAST_BODY_LIMIT, tooLarge);
    let batch: { messages?: Record<string, unknown>[] } | null = null;
    try {
      batch = JSON.parse(text);
    } catch {
      // answered below
    }
    if (!Array.isArray(batch?.messages)) throw new ApiError(422, { message: "messages: can't be blank" });
    messages = batch.messages.map((message) => {
      const { topic, event, payload } = message;
      if (typeof topic !== "string" || typeof event !== "string" || payload === undefined) {
        throw new ApiError(422, { message: "messages: topic, event and payload are required" });
      }
      return {
        topic,
        event,
        body: { event, json: JSON.stringify(payload) },
        private: message.private === true,
      };
    });
  } else {
    return json({
      message: `Realtime POST /api/broadcast${rest} is not part of the local API's subset of Supabase`,
    }, 501);
  }
  const hub = hubs.get(ctx); // no hub yet: no socket, nobody to deliver to
  for (const message of messages) {
    if (message.private && !await canWriteBroadcast(ctx.sql, caller, message.topic)) {
      // The batch endpoint skips what the caller may not send; the single one refuses.
      if (single) return json({ message: "Unauthorized" }, 403);
      continue;
    }
    hub?.broadcast(topicKey(message.private, message.topic), message.body);
  }
  return new Response(null, { status: 202 });
}

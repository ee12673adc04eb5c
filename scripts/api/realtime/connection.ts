/**
 * One client socket and the channels it joined: the Phoenix channel protocol as Supabase Realtime
 * answers it (join, leave, heartbeat, token refresh, broadcast; presence is accepted but not
 * tracked).
 */
import { canWriteBroadcast, isTokenProblem, readPolicies, type Session, sessionOfToken } from "./auth.ts";
import { ChangeSubscription, parseFilters } from "./changes.ts";
import { type RealtimeHub, topicKey } from "./hub.ts";
import {
  type BroadcastBody,
  broadcastOfJson,
  decodeFrame,
  Encoder,
  type InboundMessage,
  type Vsn,
} from "./protocol.ts";

/** The join payload realtime-js sends (RealtimeChannel.subscribe). */
interface JoinPayload {
  access_token?: string;
  user_token?: string;
  config?: {
    broadcast?: { self?: boolean; ack?: boolean };
    presence?: { enabled?: boolean; key?: string };
    postgres_changes?: ({ event?: string; schema?: string; table?: string; filter?: string } | null)[];
    private?: boolean;
  };
}

/** What is wrong with a join payload's shape (each part is optional), or undefined. */
function malformedJoin(payload: unknown): string | undefined {
  const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);
  if (payload == null) return;
  if (!isObject(payload)) return "the payload must be an object";
  const { access_token, user_token, config } = payload as Record<string, unknown>;
  if (access_token != null && typeof access_token !== "string") return "access_token must be a string";
  if (user_token != null && typeof user_token !== "string") return "user_token must be a string";
  if (config == null) return;
  if (!isObject(config)) return "config must be an object";
  const { broadcast, presence, postgres_changes } = config as Record<string, unknown>;
  if (broadcast != null && !isObject(broadcast)) return "config.broadcast must be an object";
  if (presence != null && !isObject(presence)) return "config.presence must be an object";
  if (
    postgres_changes != null &&
    !(Array.isArray(postgres_changes) &&
      postgres_changes.every((params) => params === null || isObject(params)))
  ) {
    return "config.postgres_changes must be a list of objects";
  }
  const fields = ["event", "schema", "table", "filter"];
  const badField = (postgres_changes as Record<string, unknown>[] | undefined)?.some((params) =>
    params && fields.some((field) => params[field] != null && typeof params[field] !== "string")
  );
  if (badField) return "config.postgres_changes' event, schema, table and filter must be strings";
}

/** setTimeout's longest delay; longer token lifetimes are checked again when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Connection {
  readonly encoder: Encoder;
  #channels = new Map<string, Channel>();
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(readonly hub: RealtimeHub, readonly socket: WebSocket, vsn: Vsn, readonly apiKey: string) {
    this.encoder = new Encoder(vsn);
    socket.binaryType = "arraybuffer";
    // One message at a time, in order (a join's checks finish before the next message is read).
    socket.onmessage = (event) => {
      this.#queue = this.#queue.then(() => this.#handle(decodeFrame(event.data)))
        .catch((error) => console.error("[realtime] message:", error));
    };
    socket.onclose = () => this.#disconnected();
  }

  send(frame: string | Uint8Array | null): void {
    if (frame !== null && this.socket.readyState === WebSocket.OPEN) this.socket.send(frame);
  }

  close(): void {
    this.socket.close(1000, "Realtime is shutting down");
    this.#disconnected();
  }

  forget(channel: Channel): void {
    if (this.#channels.get(channel.topic) === channel) this.#channels.delete(channel.topic);
  }

  #disconnected(): void {
    this.#closed = true;
    for (const channel of this.#channels.values()) channel.close();
    this.hub.disconnected(this);
  }

  async #handle(message: InboundMessage): Promise<void> {
    const { topic, event, ref, joinRef, payload } = message;
    if (topic === "phoenix" && event === "heartbeat") {
      return this.send(this.encoder.reply(null, ref, topic, "ok", {}));
    }
    if (event === "phx_join") return await this.#join(message);
    const channel = this.#channels.get(topic);
    if (!channel) {
      return this.send(this.encoder.reply(joinRef, ref, topic, "error", { reason: "unmatched topic" }));
    }
    switch (event) {
      case "phx_leave":
        return channel.leave(ref);
      case "access_token":
        return await channel.refresh((payload as { access_token?: unknown })?.access_token);
      case "broadcast": {
        const body = message.broadcast === undefined ? broadcastOfJson(payload) : message.broadcast;
        if (!body) {
          return this.send(
            this.encoder.reply(joinRef, ref, topic, "error", { reason: "malformed broadcast" }),
          );
        }
        return await channel.broadcast(body, ref);
      }
      case "presence":
        // Presence is not part of this stand-in: track/untrack succeed and nobody is told.
        return this.send(this.encoder.reply(joinRef, ref, topic, "ok", {}));
    }
    // Realtime ignores any other client event.
  }

  async #join({ topic, joinRef, ref, payload }: InboundMessage): Promise<void> {
    const refuse = (reason: string) =>
      this.send(this.encoder.reply(joinRef, ref, topic, "error", { reason }));
    if (typeof topic !== "string" || !topic.startsWith("realtime:")) return refuse("unmatched topic");
    const name = topic.slice("realtime:".length);
    if (!name) return refuse("TopicNameRequired: You must provide a topic name");
    const malformed = malformedJoin(payload);
    if (malformed) return refuse(`Malformed join payload: ${malformed}`);
    const { access_token, user_token, config = {} } = (payload ?? {}) as JoinPayload;
    // The channel acts for its own token, or for the socket's API key (a publishable `sb_` key too).
    const token = access_token ?? user_token;
    const session = await sessionOfToken(token && !token.startsWith("sb_") ? token : this.apiKey);
    if (isTokenProblem(session)) return refuse(`${session.code}: ${session.message}`);

    // A second join of a topic replaces the first, as Phoenix does.
    this.#channels.get(topic)?.close();
    const channel = new Channel(this, topic, name, joinRef, session, config);
    if (channel.isPrivate) {
      const policies = await readPolicies(this.hub.ctx.sql, session.caller, name).catch((error) => {
        console.error("[realtime] channel authorization:", error);
        return null;
      });
      if (!policies) {
        return refuse("UnableToConnectToProject: Realtime was unable to connect to the project database");
      }
      if (!policies.broadcast && !policies.presence) {
        return refuse(`Unauthorized: You do not have permissions to read from this Channel topic: ${name}`);
      }
      channel.canReadBroadcast = policies.broadcast;
    }
    const requested = (config.postgres_changes ?? []).filter((params) => params !== null);
    const subscriptions = requested.map((params) => ({ params, id: this.hub.nextSubscriptionId() }));
    let subscribeError: string | undefined;
    try {
      channel.changes = await Promise.all(
        subscriptions.map(({ params, id }) => this.#subscription(id, params)),
      );
    } catch (error) {
      subscribeError = error instanceof Error ? error.message : String(error);
    }
    // Changes and database broadcasts flow once the replication stream runs.
    await this.hub.replicationReady().catch((error) =>
      subscribeError ??= `Unable to stream changes: ${error}`
    );

    if (this.#closed) return; // the socket went away during the checks
    this.#channels.set(topic, channel);
    this.hub.add(channel);
    channel.watchExpiry();
    this.send(this.encoder.reply(joinRef, ref, topic, "ok", {
      postgres_changes: subscriptions.map(({ params, id }) => ({ ...params, id })),
    }));
    if (requested.length > 0) {
      channel.system(
        "postgres_changes",
        subscribeError ? "error" : "ok",
        subscribeError ?? "Subscribed to PostgreSQL",
      );
    }
  }

  /** Checks a binding as Realtime's subscription insert does: the table exists, the filters are valid. */
  async #subscription(
    id: number,
    params: { event?: string; schema?: string; table?: string; filter?: string },
  ): Promise<ChangeSubscription> {
    const { event = "*", schema = "public", table, filter } = params;
    try {
      const filters = parseFilters(filter);
      if (table && table !== "*" && schema !== "*") {
        const info = await this.hub.tables.get(schema, table);
        if (!info) throw new Error(`relation "${schema}.${table}" does not exist`);
        const unknown = filters.find((f) => !info.columns.some((column) => column.name === f.column));
        if (unknown) throw new Error(`invalid column for filter ${unknown.column}`);
      }
      return new ChangeSubscription(id, event.toUpperCase(), schema, table, filters);
    } catch (error) {
      throw new Error(
        "Unable to subscribe to changes with given parameters. An exception happened so please check your " +
          `connect parameters: [event: ${event}, schema: ${schema}, table: ${table}, filters: ${filter}]. ` +
          `Exception: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
}

export class Channel {
  readonly isPrivate: boolean;
  readonly selfBroadcast: boolean;
  readonly ackBroadcast: boolean;
  /** Public channels read every broadcast; private ones what the RLS check allowed. */
  canReadBroadcast = true;
  changes: ChangeSubscription[] = [];
  closed = false;
  #mayWrite?: Promise<boolean>;
  #expiryTimer?: ReturnType<typeof setTimeout>;

  constructor(
    readonly connection: Connection,
    readonly topic: string,
    readonly name: string,
    readonly joinRef: string | null,
    public session: Session,
    config: NonNullable<JoinPayload["config"]>,
  ) {
    this.isPrivate = config.private === true;
    this.selfBroadcast = config.broadcast?.self === true;
    this.ackBroadcast = config.broadcast?.ack === true;
  }

  get key(): string {
    return topicKey(this.isPrivate, this.name);
  }

  get caller() {
    return this.session.caller;
  }

  sendRaw(event: string, payloadJson: string): void {
    this.connection.send(this.connection.encoder.raw(null, null, this.topic, event, payloadJson));
  }

  push(event: string, payload: unknown): void {
    this.connection.send(this.connection.encoder.message(this.joinRef, null, this.topic, event, payload));
  }

  system(extension: string, status: "ok" | "error", message: string): void {
    this.push("system", { extension, status, message, channel: this.name });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.#expiryTimer);
    this.connection.hub.remove(this);
    this.connection.forget(this);
  }

  leave(ref: string | null): void {
    this.close();
    this.connection.send(this.connection.encoder.reply(this.joinRef, ref, this.topic, "ok", {}));
    this.#sendClose();
  }

  /** Ends the channel from the server side: a system error telling why, then phx_close. */
  shutdown(message: string): void {
    this.system("system", "error", message);
    this.#sendClose();
    this.close();
  }

  #sendClose(): void {
    this.connection.send(
      this.connection.encoder.message(this.joinRef, this.joinRef, this.topic, "phx_close", {}),
    );
  }

  /** Closes the channel when its token expires, as Realtime does. */
  watchExpiry(): void {
    clearTimeout(this.#expiryTimer);
    const remaining = this.session.expiresAt * 1000 - Date.now();
    if (remaining <= 0) {
      return this.shutdown(`Token has expired ${Math.floor(-remaining / 1000)} seconds ago`);
    }
    this.#expiryTimer = setTimeout(() => this.watchExpiry(), Math.min(remaining, MAX_TIMER_MS));
  }

  /** An `access_token` message: the channel acts for the new token from now on. */
  async refresh(token: unknown): Promise<void> {
    if (typeof token !== "string" || token.startsWith("sb_") || token === this.session.token) return;
    const session = await sessionOfToken(token);
    if (isTokenProblem(session)) return this.shutdown(session.message);
    if (this.isPrivate) {
      const policies = await readPolicies(this.connection.hub.ctx.sql, session.caller, this.name);
      if (!policies.broadcast && !policies.presence) {
        return this.shutdown(`You do not have permissions to read from this Channel topic: ${this.name}`);
      }
      if (this.canReadBroadcast && !policies.broadcast) {
        return this.shutdown(`You no longer have permission to read from this Channel topic: ${this.name}`);
      }
      this.canReadBroadcast = policies.broadcast;
      this.#mayWrite = undefined;
    }
    this.session = session;
    this.watchExpiry();
    if (this.changes.length > 0) this.system("postgres_changes", "ok", "Subscribed to PostgreSQL");
  }

  /**
   * A client's broadcast to the other subscribers of the topic (and itself with `self`), acknowledged
   * with `ack`. On a private channel the caller must be allowed to write (checked once); otherwise
   * Realtime drops the message without a reply.
   */
  async broadcast(body: BroadcastBody, ref: string | null): Promise<void> {
    if (this.isPrivate) {
      this.#mayWrite ??= canWriteBroadcast(this.connection.hub.ctx.sql, this.caller, this.name).catch(
        (error) => {
          console.error("[realtime] broadcast authorization:", error);
          this.#mayWrite = undefined;
          return false;
        },
      );
      if (!await this.#mayWrite) return;
    }
    this.connection.hub.broadcast(this.key, body, undefined, this.selfBroadcast ? undefined : this);
    if (this.ackBroadcast) {
      this.connection.send(this.connection.encoder.reply(this.joinRef, ref, this.topic, "ok", {}));
    }
  }
}

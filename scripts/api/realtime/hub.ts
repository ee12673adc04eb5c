/**
 * The Realtime state of one API instance: its sockets, the channels they joined (by topic, for
 * Broadcast; by table, for postgres_changes), and the replication stream that feeds both.
 */
import { type ApiContext, type Caller, runAs } from "../context.ts";
import {
  type RawRow,
  recordOf,
  type RowChange,
  startReplication,
  type TableInfo,
  Tables,
} from "./changes.ts";
import { type Channel, Connection } from "./connection.ts";
import type { BroadcastBody, Vsn } from "./protocol.ts";

/** Public and private channels of the same name are separate audiences, as in Realtime. */
export function topicKey(isPrivate: boolean, name: string): string {
  return `${isPrivate ? "private" : "public"}:${name}`;
}

/** A channel's subscriber, and the ids of its postgres_changes subscriptions a change matched. */
interface Match {
  channel: Channel;
  ids: number[];
}

export class RealtimeHub {
  readonly tables: Tables;
  #connections = new Set<Connection>();
  #topics = new Map<string, Set<Channel>>();
  #changeChannels = new Set<Channel>();
  #replication?: Promise<{ stop(): Promise<void> }>;
  /** Changes are prepared concurrently (RLS checks) but delivered one after another, in commit order. */
  #delivered: Promise<void> = Promise.resolve();
  #nextSubscriptionId = 1;
  #closed = false;

  constructor(readonly ctx: ApiContext) {
    this.tables = new Tables(ctx.sql);
  }

  connect(socket: WebSocket, vsn: Vsn, apiKey: string): void {
    this.#connections.add(new Connection(this, socket, vsn, apiKey));
  }

  disconnected(connection: Connection): void {
    this.#connections.delete(connection);
  }

  /** Starts the replication stream once (lazily, at the first socket); a failed start is retried. */
  replicationReady(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Realtime is shutting down"));
    if (!this.#replication) {
      const started = startReplication(this.ctx.dbUrl, (change) => this.#onChange(change));
      started.catch(() => {
        if (this.#replication === started) this.#replication = undefined;
      });
      this.#replication = started;
    }
    return this.#replication.then(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const connection of this.#connections) connection.close();
    await this.#replication?.then((replication) => replication.stop(), () => {});
    await this.#delivered;
  }

  nextSubscriptionId(): number {
    return this.#nextSubscriptionId++;
  }

  add(channel: Channel): void {
    const audience = this.#topics.get(channel.key) ??
      this.#topics.set(channel.key, new Set()).get(channel.key)!;
    audience.add(channel);
    if (channel.changes.length > 0) this.#changeChannels.add(channel);
  }

  remove(channel: Channel): void {
    const audience = this.#topics.get(channel.key);
    audience?.delete(channel);
    if (audience?.size === 0) this.#topics.delete(channel.key);
    this.#changeChannels.delete(channel);
  }

  /** Sends a broadcast to the channels of `key` that may read it, `except` the sender unless it asked for self. */
  broadcast(key: string, body: BroadcastBody, meta?: Record<string, unknown>, except?: Channel): void {
    // Every channel of a key has the same join topic: one frame per protocol version.
    const frames = new Map<Vsn, string | Uint8Array | null>();
    for (const channel of this.#topics.get(key) ?? []) {
      if (channel === except || !channel.canReadBroadcast) continue;
      const { encoder } = channel.connection;
      if (!frames.has(encoder.vsn)) frames.set(encoder.vsn, encoder.broadcast(channel.topic, body, meta));
      channel.connection.send(frames.get(encoder.vsn)!);
    }
  }

  #onChange(change: RowChange): void {
    const delivery = this.#prepare(change);
    // In order; a failed delivery is logged and the ones after it still go out.
    this.#delivered = this.#delivered.then(() => delivery).then((deliver) => deliver?.())
      .catch((error) =>
        console.error(`[realtime] delivering ${change.type} on ${change.schema}.${change.table}:`, error)
      );
  }

  /** Works out who receives a change; resolves to the function that sends it (never rejects). */
  async #prepare(change: RowChange): Promise<(() => void) | undefined> {
    try {
      if (change.schema === "realtime" && change.table === "messages") {
        return change.type === "INSERT" && change.row ? this.#databaseBroadcast(change.row) : undefined;
      }
      return await this.#postgresChange(change);
    } catch (error) {
      console.error(`[realtime] ${change.type} on ${change.schema}.${change.table}:`, error);
    }
  }

  /** A row of realtime.messages (realtime.send, broadcast_changes) goes out as Realtime's replication of it does. */
  #databaseBroadcast(message: RawRow): (() => void) | undefined {
    const { id, topic, event, payload } = message;
    if (!topic || !event || payload == null) return;
    const key = topicKey(message.private === "t", topic);
    return () => this.broadcast(key, { event, json: payload }, { id });
  }

  async #postgresChange(change: RowChange): Promise<(() => void) | undefined> {
    const candidates = [...this.#changeChannels].filter((channel) =>
      channel.changes.some((sub) => sub.watches(change))
    );
    if (candidates.length === 0) return;
    const info = await this.#tableOf(change);
    if (!info) return;
    // A DELETE carries only the replica identity: filters see only those columns (hosted Realtime
    // matches a DELETE against its old key, so a filter on another column never passes).
    const filtered = change.type === "DELETE" ? change.identity : change.row!;
    const matches: Match[] = [];
    for (const channel of candidates) {
      const ids = channel.changes.filter((sub) => sub.watches(change) && sub.passes(info, filtered)).map((
        sub,
      ) => sub.id);
      if (ids.length > 0) matches.push({ channel, ids });
    }
    // One RLS check per change and user, however many tabs they have open.
    const byUser = Map.groupBy(
      matches,
      ({ channel }) => `${channel.caller.role}:${channel.caller.userId ?? ""}`,
    );
    if (change.type !== "DELETE" && info.rls) await this.#committed(info, change);
    const visible = await Promise.all(
      [...byUser.values()].map(async (group) =>
        (await this.#maySee(info, change, group[0].channel.caller)) ? group : []
      ),
    );
    const recipients = visible.flat();
    if (recipients.length === 0) return;
    const dataByRole = new Map<string, string>();
    return () => {
      for (const { channel, ids } of recipients) {
        if (channel.closed) continue;
        const role = channel.caller.role;
        const data = dataByRole.get(role) ??
          dataByRole.set(role, JSON.stringify(changeData(info, change, role))).get(role)!;
        channel.sendRaw("postgres_changes", `{"ids":${JSON.stringify(ids)},"data":${data}}`);
      }
    };
  }

  /** The table's columns, read again when a change shows a column they lack (an ALTER TABLE). */
  async #tableOf(change: RowChange): Promise<TableInfo | null> {
    const info = await this.tables.get(change.schema, change.table);
    const columns = Object.keys(change.row ?? change.identity);
    if (!info || columns.every((name) => info.columns.some((column) => column.name === name))) return info;
    this.tables.forget(change.schema, change.table);
    return await this.tables.get(change.schema, change.table);
  }

  /**
   * May `caller` see the row an INSERT or UPDATE wrote? Checked in the database as them, as hosted
   * Realtime does: the primary key must be selectable, and a select of the row must find it. DELETEs
   * pass unchecked (their old row is gone; they carry only its key), like on hosted Supabase.
   */
  async #maySee(info: TableInfo, change: RowChange, caller: Caller): Promise<boolean> {
    if (change.type === "DELETE" || !info.rls) return true;
    const keys = info.columns.filter((column) => column.isKey);
    if (keys.length === 0 || keys.some((key) => !key.selectableBy.has(caller.role))) return false;
    const { query, values } = rowExistsQuery(info, change);
    const [{ visible }] = await runAs(
      this.ctx.sql,
      caller,
      (tx) => tx.unsafe<{ visible: boolean }[]>(query, values),
    );
    return visible;
  }

  /**
   * Waits until the change's row is visible to new snapshots. Logical decoding can send a commit a
   * moment before the committing session leaves the list of running transactions; an RLS check in
   * that moment would not see an inserted row and would drop the event for its owner. Gives up
   * after about 100 ms (the row was deleted since, say) and lets the checks decide.
   */
  async #committed(info: TableInfo, change: RowChange): Promise<void> {
    if (!info.columns.some((column) => column.isKey)) return;
    const { query, values } = rowExistsQuery(info, change);
    for (let attempt = 0; attempt < 20; attempt++) {
      const [{ visible }] = await this.ctx.sql.unsafe<{ visible: boolean }[]>(query, values);
      if (visible) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/**
 * A change as Realtime sends it (`realtime-js` turns it into `{eventType, new, old, ...}`): the
 * record, and for UPDATE and DELETE the old replica identity (only the primary key, with the
 * default replica identity). Columns the role may not select are left out.
 */
function changeData(info: TableInfo, change: RowChange, role: Caller["role"]): Record<string, unknown> {
  const data: Record<string, unknown> = {
    schema: change.schema,
    table: change.table,
    commit_timestamp: change.commitTimestamp,
    type: change.type,
    columns: info.columns.filter((column) => column.selectableBy.has(role)).map(({ name, type }) => ({
      name,
      type,
    })),
    errors: null,
  };
  if (change.row) data.record = recordOf(info, change.row, role);
  if (change.type === "UPDATE") data.old_record = recordOf(info, change.identity, role);
  // With RLS on, a deleted row's columns other than its primary key are never sent.
  if (change.type === "DELETE") data.old_record = recordOf(info, change.identity, role, info.rls);
  return data;
}

/** `select exists(...)` of a change's row by its primary key, the key values as parameters. */
function rowExistsQuery(info: TableInfo, change: RowChange): { query: string; values: (string | null)[] } {
  const keys = info.columns.filter((column) => column.isKey);
  const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
  const query = `select exists(select 1 from ${ident(info.schema)}.${ident(info.table)} where ${
    keys.map((key, i) => `${ident(key.name)} = $${i + 1}::${key.sqlType}`).join(" and ")
  }) as visible`;
  return { query, values: keys.map((key) => change.row![key.name] ?? null) };
}

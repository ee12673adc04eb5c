/**
 * Database changes for Realtime: one logical replication stream (pgoutput, through postgres.js's
 * `subscribe`, on a temporary slot) of the tables in `supabase_realtime` (postgres_changes) and of
 * realtime.messages (broadcasts from the database), and what a subscriber is told about a row:
 * values as hosted Realtime encodes them (`to_jsonb` of each column), columns with their type
 * names, and the filters a subscription may set.
 */
import postgres from "postgres";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import type { Role } from "../context.ts";

export const PUBLICATIONS = ["supabase_realtime", "supabase_realtime_messages_publication"];

/** A row as the stream carries it: each column's text, null, or undefined for an unchanged TOAST value. */
export type RawRow = Record<string, string | null | undefined>;

export interface RowChange {
  type: "INSERT" | "UPDATE" | "DELETE";
  schema: string;
  table: string;
  /** The new row (INSERT, UPDATE). */
  row: RawRow | null;
  /** The replica identity (the primary key by default): of the old row, or of the new one when it kept its key. */
  identity: RawRow;
  /** postgres.js does not hand over the transaction's commit time; the time the change arrived stands in. */
  commitTimestamp: string;
}

/** Every built-in type keeps its text form: values are converted as Realtime converts them. */
const BUILT_IN_PARSED_TYPES = [16, 17, 20, 21, 23, 26, 114, 700, 701, 1082, 1114, 1184, 3802];

/** Starts streaming; `onChange` receives every change in commit order. */
export async function startReplication(
  dbUrl: string,
  onChange: (change: RowChange) => void,
): Promise<{ stop(): Promise<void> }> {
  const replication = postgres(dbUrl, {
    max: 1,
    publications: PUBLICATIONS.join(","),
    types: {
      text: { to: 25, from: BUILT_IN_PARSED_TYPES, serialize: String, parse: (text: string) => text },
    },
    // Timestamps in UTC and ISO style, as Realtime's own connection renders them.
    connection: { TimeZone: "UTC", DateStyle: "ISO, MDY" },
    onnotice: () => {},
  });
  try {
    await replication.subscribe("*", (row, info) => {
      const keys = info.relation.keys.map((column) => column.name);
      const keyOf = (source: RawRow) => Object.fromEntries(keys.map((name) => [name, source[name]]));
      const current = row as RawRow | null;
      const old = info.command === "update" ? info.old as RawRow | null : null;
      onChange({
        type: info.command === "insert" ? "INSERT" : info.command === "update" ? "UPDATE" : "DELETE",
        schema: info.relation.schema,
        table: info.relation.table,
        row: info.command === "delete" ? null : current,
        identity: keyOf(old ?? current ?? {}),
        commitTimestamp: new Date().toISOString(),
      });
    });
  } catch (error) {
    await replication.end({ timeout: 1 });
    throw error;
  }
  return { stop: () => replication.end({ timeout: 5 }) };
}

export interface ColumnInfo {
  name: string;
  /** pg_type.typname, which realtime-js converts by (e.g. int4, _text, timestamptz). */
  type: string;
  /** The type as SQL spells it, to cast a key value in the RLS check. */
  sqlType: string;
  /** How the column compares in a filter: numerically, as booleans, as times, or as text. */
  kind: "number" | "boolean" | "time" | "text";
  isKey: boolean;
  toJson: (text: string) => unknown;
  /** Which roles may select the column (column privileges, as Realtime respects them). */
  selectableBy: Set<Role>;
}

export interface TableInfo {
  schema: string;
  table: string;
  rls: boolean;
  columns: ColumnInfo[];
}

/** Column types and privileges of a published table, read once per API instance. */
export class Tables {
  #cache = new Map<string, Promise<TableInfo | null>>();
  constructor(private readonly sql: Sql) {}

  forget(schema: string, table: string): void {
    this.#cache.delete(`${schema}.${table}`);
  }

  get(schema: string, table: string): Promise<TableInfo | null> {
    const key = `${schema}.${table}`;
    let info = this.#cache.get(key);
    if (!info) {
      info = this.#load(schema, table);
      info.catch(() => this.#cache.delete(key));
      this.#cache.set(key, info);
    }
    return info;
  }

  async #load(schema: string, table: string): Promise<TableInfo | null> {
    const rows = await this.sql<{
      name: string;
      type: string;
      sql_type: string;
      base: string;
      category: string;
      element: string | null;
      is_key: boolean;
      rls: boolean;
      anon: boolean;
      authenticated: boolean;
      service_role: boolean;
    }[]>`
      select a.attname as name, t.typname as type, format_type(a.atttypid, null) as sql_type,
             b.typname as base, b.typcategory as category, e.typname as element,
             coalesce(a.attnum = any(pk.conkey), false) as is_key, c.relrowsecurity as rls,
             has_column_privilege('anon', c.oid, a.attnum, 'SELECT') as anon,
             has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT') as authenticated,
             has_column_privilege('service_role', c.oid, a.attnum, 'SELECT') as service_role
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      join pg_type t on t.oid = a.atttypid
      join pg_type b on b.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
      left join pg_type e on e.oid = b.typelem and b.typcategory = 'A'
      left join pg_constraint pk on pk.conrelid = c.oid and pk.contype = 'p'
      where n.nspname = ${schema} and c.relname = ${table}
      order by a.attnum`;
    if (rows.length === 0) return null;
    return {
      schema,
      table,
      rls: rows[0].rls,
      columns: rows.map((row) => ({
        name: row.name,
        type: row.type,
        sqlType: row.sql_type,
        kind: kindOf(row.category),
        isKey: row.is_key,
        toJson: row.category === "A"
          ? (text) => parseArray(text, converterOf(row.element ?? "text"))
          : converterOf(row.base),
        selectableBy: new Set(
          (["anon", "authenticated", "service_role"] as const).filter((role) => row[role]),
        ),
      })),
    };
  }
}

function kindOf(category: string): ColumnInfo["kind"] {
  if (category === "N") return "number";
  if (category === "B") return "boolean";
  if (category === "D") return "time";
  return "text";
}

const NUMBER_TYPES = new Set(["int2", "int4", "int8", "float4", "float8", "numeric", "oid"]);

/** The JSON value `to_jsonb` gives for a column's text, by its (base) type name. */
function converterOf(type: string): (text: string) => unknown {
  if (type === "bool") return (text) => text === "t";
  if (NUMBER_TYPES.has(type)) return (text) => Number.isFinite(Number(text)) ? Number(text) : text;
  if (type === "json" || type === "jsonb") return (text) => JSON.parse(text);
  if (type === "timestamp") return (text) => text.replace(" ", "T");
  if (type === "timestamptz" || type === "timetz") return isoWithOffset;
  return (text) => text;
}

/** `2024-05-01 10:00:00.5+00` → `2024-05-01T10:00:00.5+00:00`, as to_jsonb writes it. */
function isoWithOffset(text: string): string {
  return text.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00");
}

/** Parses an array literal (`{1,2}`, `{"a b",NULL}`, nested) into JSON values. */
function parseArray(text: string, convert: (element: string) => unknown): unknown {
  let position = 0;
  const parseLevel = (): unknown[] => {
    const items: unknown[] = [];
    position++; // {
    while (text[position] !== "}") {
      if (text[position] === "{") items.push(parseLevel());
      else if (text[position] === '"') {
        let value = "";
        position++;
        while (text[position] !== '"') {
          if (text[position] === "\\") position++;
          value += text[position++];
        }
        position++;
        items.push(convert(value));
      } else {
        const end = text.slice(position).search(/[,}]/) + position;
        const value = text.slice(position, end);
        position = end;
        items.push(value === "NULL" ? null : convert(value));
      }
      if (text[position] === ",") position++;
    }
    position++; // }
    return items;
  };
  // A literal may start with dimensions (`[0:1]={1,2}`).
  position = text.indexOf("{");
  return position < 0 ? text : parseLevel();
}

/** A row's columns as JSON values, restricted to what `role` may select (and to the primary key if asked). */
export function recordOf(info: TableInfo, row: RawRow, role: Role, keyOnly = false): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const column of info.columns) {
    const text = row[column.name];
    if (text === undefined || !column.selectableBy.has(role) || (keyOnly && !column.isKey)) continue;
    record[column.name] = text === null ? null : column.toJson(text);
  }
  return record;
}

// Subscriptions and their filters -------------------------------------------------------------------

/** One `postgres_changes` binding of a channel; `id` is what the client matches events by. */
export class ChangeSubscription {
  constructor(
    readonly id: number,
    readonly event: string,
    readonly schema: string,
    readonly table: string | undefined,
    readonly filters: Filter[],
  ) {}

  /** Whether the change is of the table and event this subscription listens to (`*` for any). */
  watches(change: RowChange): boolean {
    return (this.schema === "*" || this.schema === change.schema) &&
      (!this.table || this.table === "*" || this.table === change.table) &&
      (this.event === "*" || this.event === change.type);
  }

  passes(info: TableInfo, row: RawRow): boolean {
    return passesFilters(info, row, this.filters);
  }
}

export interface Filter {
  column: string;
  op: "eq" | "neq" | "lt" | "lte" | "gt" | "gte" | "in" | "is";
  value: string;
  negate: boolean;
}

const OPERATORS = new Set(["eq", "neq", "lt", "lte", "gt", "gte", "in", "is"]);

/** Splits on commas outside double quotes and parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0, quoted = false, start = 0;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === "(") depth++;
    else if (!quoted && char === ")") depth--;
    else if (!quoted && depth === 0 && char === ",") {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

const unquote = (value: string) => value.replace(/^"(.*)"$/s, "$1");

/** Parses `column=op.value[,column=op.value...]` (AND), `not.` negating; throws on anything else. */
export function parseFilters(filter: string | undefined): Filter[] {
  if (!filter) return [];
  return splitTopLevel(filter).map((condition) => {
    const match = condition.match(/^([^=]+)=(not\.)?([a-z]+)\.(.*)$/s);
    if (!match || !OPERATORS.has(match[3])) throw new Error(`unsupported filter: ${condition}`);
    const [, column, not, op, value] = match;
    if (op === "is" && !["null", "true", "false"].includes(value)) {
      throw new Error("invalid value for is filter: must be null, true or false");
    }
    return {
      column,
      op: op as Filter["op"],
      value: op === "in" ? value : unquote(value),
      negate: Boolean(not),
    };
  });
}

/**
 * Whether a row passes every filter, compared as Postgres compares the column's type (numbers,
 * booleans and times by value, other types as text). A filter on a column the row does not carry
 * (a DELETE carries only its key) fails, as in Realtime.
 */
export function passesFilters(info: TableInfo, row: RawRow, filters: Filter[]): boolean {
  return filters.every((filter) => {
    const column = info.columns.find((c) => c.name === filter.column);
    const text = row[filter.column];
    if (!column || text === undefined) return false;
    const result = text === null
      ? filter.op === "is" && filter.value === "null"
      : compare(column, text, filter);
    return filter.negate ? !result : result;
  });
}

function compare(column: ColumnInfo, text: string, filter: Filter): boolean {
  if (filter.op === "is") {
    return filter.value !== "null" && normalize(column, text) === normalize(column, filter.value);
  }
  if (filter.op === "in") {
    const values = splitTopLevel(filter.value.replace(/^\((.*)\)$/s, "$1")).map(unquote);
    return values.some((value) => normalize(column, text) === normalize(column, value));
  }
  const [a, b] = [normalize(column, text), normalize(column, filter.value)];
  switch (filter.op) {
    case "eq":
      return a === b;
    case "neq":
      return a !== b;
    case "lt":
      return a < b;
    case "lte":
      return a <= b;
    case "gt":
      return a > b;
    case "gte":
      return a >= b;
  }
}

const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);

function normalize(column: ColumnInfo, text: string): number | string {
  switch (column.kind) {
    case "number":
      return Number(text);
    case "boolean":
      return TRUE_WORDS.has(text.trim().toLowerCase()) ? 1 : 0;
    case "time": {
      const time = Date.parse(isoWithOffset(text.trim()));
      return Number.isNaN(time) ? text : time;
    }
    default:
      return column.type === "uuid" ? text.toLowerCase() : text;
  }
}

/**
 * The Data API's schema cache, as PostgREST keeps one: the exposed schema's tables with their
 * columns and keys, the foreign keys between them (for embedding) and its functions (for RPC).
 * Read from pg_catalog once per API instance and read again when a request names something the
 * cache does not know.
 */
import { type ApiContext, ApiError } from "../context.ts";

/** The only schema the local Data API exposes. */
export const SCHEMA = "public";

export interface Column {
  name: string;
  /** The type as format_type renders it with an empty search path (schema-qualified when not built in). */
  type: string;
  /** The same without its modifier (`character varying` for `character varying(20)`), for casting filter values. */
  baseType: string;
}

export interface Table {
  name: string;
  columns: Map<string, Column>;
  primaryKey: string[];
  /** Column sets of the primary key and unique constraints. */
  uniqueKeys: string[][];
}

export interface ForeignKey {
  name: string;
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
}

export interface RoutineParam {
  name: string;
  type: string;
  hasDefault: boolean;
  variadic: boolean;
}

export interface Routine {
  name: string;
  params: RoutineParam[];
  returnsSet: boolean;
  /** void, a scalar, or rows whose columns are `columns` (undefined when the record type is unknown). */
  returns: "void" | "scalar" | "composite";
  columns?: Map<string, Column>;
}

export interface SchemaCache {
  tables: Map<string, Table>;
  foreignKeys: ForeignKey[];
  routines: Map<string, Routine[]>;
}

const caches = new WeakMap<ApiContext, Promise<SchemaCache>>();

function schemaCache(ctx: ApiContext): Promise<SchemaCache> {
  let cache = caches.get(ctx);
  if (!cache) {
    cache = loadSchemaCache(ctx);
    caches.set(ctx, cache);
    cache.catch(() => caches.delete(ctx));
  }
  return cache;
}

/** Codes of the errors a stale cache causes: unknown table, column, relationship or function. */
const STALE_CACHE_CODES = new Set(["PGRST200", "PGRST202", "PGRST204", "PGRST205", "42703"]);

/**
 * Plans a request against the cache, and once more against a fresh read of the catalog when the
 * plan names something the cache does not know (the schema may have changed since).
 */
export async function withSchema<T>(ctx: ApiContext, plan: (cache: SchemaCache) => T): Promise<T> {
  const current = schemaCache(ctx);
  try {
    return plan(await current);
  } catch (error) {
    if (!(error instanceof ApiError) || !STALE_CACHE_CODES.has(String(error.body.code))) throw error;
    // (Unless a concurrent request has already read it again.)
    if (caches.get(ctx) === current) caches.delete(ctx);
    return plan(await schemaCache(ctx));
  }
}

interface ColumnRow {
  table_name: string;
  column_name: string;
  type: string;
  base_type: string;
}
interface ConstraintRow {
  name: string;
  kind: "p" | "u" | "f";
  table_name: string;
  columns: string[];
  ref_table: string | null;
  ref_columns: string[] | null;
}
interface RoutineRow {
  name: string;
  returns_set: boolean;
  return_type: string;
  return_kind: string;
  return_table: string | null;
  arg_types: string[];
  arg_modes: string[] | null;
  arg_names: string[] | null;
  default_count: number;
}

async function loadSchemaCache(ctx: ApiContext): Promise<SchemaCache> {
  return await ctx.sql.begin(async (tx) => {
    // An empty search path makes format_type qualify every type outside pg_catalog.
    await tx`select set_config('search_path', '', true)`;
    const columns = await tx<ColumnRow[]>`
      select c.relname as table_name, a.attname as column_name, format_type(a.atttypid, a.atttypmod) as type,
             format_type(a.atttypid, null) as base_type
      from pg_catalog.pg_class c
      join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relnamespace = ${SCHEMA}::regnamespace and c.relkind in ('r', 'v', 'm', 'f', 'p')
      order by c.relname, a.attnum`;
    const constraints = await tx<ConstraintRow[]>`
      select con.conname as name, con.contype as kind, c.relname as table_name,
             array(select a.attname from unnest(con.conkey) with ordinality k(num, i)
                   join pg_catalog.pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.num
                   order by k.i)::text[] as columns,
             rc.relname as ref_table,
             array(select a.attname from unnest(con.confkey) with ordinality k(num, i)
                   join pg_catalog.pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.num
                   order by k.i)::text[] as ref_columns
      from pg_catalog.pg_constraint con
      join pg_catalog.pg_class c on c.oid = con.conrelid
      left join pg_catalog.pg_class rc on rc.oid = con.confrelid
      where con.contype in ('p', 'u', 'f') and c.relnamespace = ${SCHEMA}::regnamespace
        and (con.contype <> 'f' or rc.relnamespace = ${SCHEMA}::regnamespace)
      order by con.conname`;
    const routines = await tx<RoutineRow[]>`
      select p.proname as name, p.proretset as returns_set, format_type(p.prorettype, null) as return_type,
             t.typtype as return_kind,
             case when t.typtype = 'c' then (select r.relname from pg_catalog.pg_class r
                                             where r.oid = t.typrelid and r.relnamespace = ${SCHEMA}::regnamespace)
             end as return_table,
             array(select format_type(u.type, null)
                   from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) with ordinality u(type, i)
                   order by u.i)::text[] as arg_types,
             p.proargmodes::text[] as arg_modes, p.proargnames::text[] as arg_names,
             p.pronargdefaults::int as default_count
      from pg_catalog.pg_proc p join pg_catalog.pg_type t on t.oid = p.prorettype
      where p.pronamespace = ${SCHEMA}::regnamespace and p.prokind = 'f'
      order by p.proname`;

    const tables = new Map<string, Table>();
    for (const row of columns) {
      let table = tables.get(row.table_name);
      if (!table) {
        table = { name: row.table_name, columns: new Map(), primaryKey: [], uniqueKeys: [] };
        tables.set(row.table_name, table);
      }
      table.columns.set(row.column_name, { name: row.column_name, type: row.type, baseType: row.base_type });
    }
    const foreignKeys: ForeignKey[] = [];
    for (const con of constraints) {
      const table = tables.get(con.table_name);
      if (!table) continue;
      if (con.kind === "p") table.primaryKey = con.columns;
      if (con.kind !== "f") table.uniqueKeys.push(con.columns);
      else if (con.ref_table && con.ref_columns) {
        foreignKeys.push({
          name: con.name,
          table: con.table_name,
          columns: con.columns,
          refTable: con.ref_table,
          refColumns: con.ref_columns,
        });
      }
    }
    const routinesByName = new Map<string, Routine[]>();
    for (const row of routines) {
      const routine = toRoutine(row, tables);
      routinesByName.set(row.name, [...routinesByName.get(row.name) ?? [], routine]);
    }
    return { tables, foreignKeys, routines: routinesByName };
  });
}

function toRoutine(row: RoutineRow, tables: Map<string, Table>): Routine {
  const modes = row.arg_modes ?? row.arg_types.map(() => "i");
  const names = row.arg_names ?? [];
  const params: RoutineParam[] = [];
  const outColumns = new Map<string, Column>();
  row.arg_types.forEach((type, i) => {
    const name = names[i] ?? "";
    if (modes[i] === "i" || modes[i] === "b" || modes[i] === "v") {
      params.push({ name, type, hasDefault: false, variadic: modes[i] === "v" });
    }
    if (modes[i] === "o" || modes[i] === "b" || modes[i] === "t") {
      outColumns.set(name, { name, type, baseType: type });
    }
  });
  // The last `default_count` input parameters have defaults.
  params.slice(params.length - row.default_count).forEach((p) => p.hasDefault = true);

  let returns: Routine["returns"] = "scalar";
  let resultColumns: Map<string, Column> | undefined;
  if (row.return_type === "void") returns = "void";
  else if (outColumns.size > 0 && row.return_type === "record") {
    returns = "composite";
    resultColumns = outColumns;
  } else if (row.return_kind === "c" || row.return_type === "record") {
    returns = "composite";
    resultColumns = row.return_table ? tables.get(row.return_table)?.columns : undefined;
  }
  return { name: row.name, params, returnsSet: row.returns_set, returns, columns: resultColumns };
}

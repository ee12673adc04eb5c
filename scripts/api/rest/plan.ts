/**
 * Checks a parsed request against the schema cache: every column, embedded resource (through a
 * foreign key), filter and order term must exist. The result is a plan that sql.ts turns into SQL.
 */
import { pgrstError, unknownColumn, unsupported } from "./errors.ts";
import {
  type Condition,
  type OrderTerm,
  parseFilter,
  parseLogic,
  parseNonNegative,
  parseOrder,
  parseSelect,
  type SelectItem,
} from "./parse.ts";
import { type Column, SCHEMA, type SchemaCache, type Table } from "./schema.ts";

/** What rows come from: a table, or the rows a function returns. */
export interface Source {
  name: string;
  columns: Map<string, Column>;
}

export interface Relationship {
  constraint: string;
  /** The embedded table. */
  table: string;
  /** Pairs of (parent column, embedded column) that must be equal. */
  pairs: { parent: string; child: string }[];
  toOne: boolean;
  cardinality: "many-to-one" | "one-to-many" | "one-to-one";
  /** The foreign key's own columns, on the table that holds it. */
  fkColumns: string[];
  fkTable: string;
  refColumns: string[];
  refTable: string;
}

export interface EmbedPlan {
  key: string;
  table: Table;
  rel: Relationship;
  /** `chapters(count)` (PostgREST's embedded count): the key of the `[{count: n}]` answered. */
  countAs?: string;
  items: SelectItem[];
  conditions: Condition[];
  order: OrderTerm[];
  limit?: number;
  offset?: number;
  inner: boolean;
  /** From `embed=is.null` (true) or `embed=not.is.null` (false). */
  mustBeNull?: boolean;
}

export interface ReadPlan {
  source: Source;
  items: SelectItem[];
  embeds: Map<string, EmbedPlan>;
  conditions: Condition[];
  order: OrderTerm[];
  limit?: number;
  offset: number;
}

/** Query parameters that are not filters. */
export const RESERVED_PARAMS = new Set(["select", "order", "limit", "offset", "columns", "on_conflict"]);

const LOGIC_KEYS: Record<string, { or: boolean; negate: boolean }> = {
  "or": { or: true, negate: false },
  "and": { or: false, negate: false },
  "not.or": { or: true, negate: true },
  "not.and": { or: false, negate: true },
};

/**
 * Plans a read of `source` from the query string. `cache` resolves embedded resources (null where
 * embedding is not possible, e.g. on a function's rows); `skip` names parameters that are not filters.
 */
export function planRead(
  source: Source,
  params: URLSearchParams,
  cache: SchemaCache | null,
  skip: Set<string> = new Set(),
): ReadPlan {
  const items = parseSelect(params.get("select") ?? "*");
  const embeds = new Map<string, EmbedPlan>();
  for (const item of items) {
    if (item.kind === "column") requireColumn(source, item.name);
    if (item.kind !== "embed") continue;
    if (!cache) throw unsupported("Embedding resources in the result of a function");
    const { table, rel } = resolveEmbed(cache, source.name, item.target, item.hint);
    const [only] = item.items;
    const countAs = item.items.length === 1 && only.kind === "column" && only.name === "count" &&
        !table.columns.has("count")
      ? only.alias
      : undefined;
    if (countAs !== undefined && rel.toOne) throw unsupported("count() on a to-one embedded resource");
    if (countAs === undefined) {
      for (const sub of item.items) if (sub.kind === "column") requireColumn(table, sub.name);
    }
    embeds.set(item.alias, {
      key: item.alias,
      table,
      rel,
      countAs,
      items: item.items,
      conditions: [],
      order: [],
      inner: item.inner,
    });
  }

  const plan: ReadPlan = { source, items, embeds, conditions: [], order: [], offset: 0 };
  for (const [key, value] of params) {
    if (RESERVED_PARAMS.has(key) || skip.has(key)) continue;
    if (LOGIC_KEYS[key]) {
      plan.conditions.push(parseLogic(LOGIC_KEYS[key].or, LOGIC_KEYS[key].negate, value));
      continue;
    }
    if (source.columns.has(key)) {
      plan.conditions.push(parseFilter(key, value));
      continue;
    }
    const embed = embeds.get(key);
    if (embed) {
      if (value !== "is.null" && value !== "not.is.null") {
        throw pgrstError(
          400,
          "PGRST120",
          `Bad operator on the '${key}' embedded resource`,
          "Only is null or not is null filters are allowed on embedded resources",
        );
      }
      embed.mustBeNull = value === "is.null";
      continue;
    }
    const dot = key.indexOf(".");
    const target = dot > 0 ? embeds.get(key.slice(0, dot)) : undefined;
    if (!target) {
      if (dot > 0 && !source.columns.has(key.slice(0, dot))) {
        throw pgrstError(
          400,
          "PGRST108",
          `'${key.slice(0, dot)}' is not an embedded resource in this request`,
          null,
          `Verify that '${key.slice(0, dot)}' is included in the 'select' query parameter.`,
        );
      }
      throw unknownColumn(source.name, key);
    }
    applyToEmbed(target, key.slice(dot + 1), value);
  }

  for (const condition of plan.conditions) requireConditionColumns(source, condition);
  const order = params.get("order");
  plan.order = order ? parseOrder(order) : [];
  for (const term of plan.order) requireColumn(source, term.column);
  const limit = params.get("limit");
  if (limit !== null) plan.limit = parseNonNegative("limit", limit);
  const offset = params.get("offset");
  if (offset !== null) plan.offset = parseNonNegative("offset", offset);
  return plan;
}

/** `embed.col=op.value`, `embed.or=(...)`, `embed.order=...`, `embed.limit=n`, `embed.offset=n`. */
function applyToEmbed(embed: EmbedPlan, key: string, value: string) {
  if (key === "order") {
    embed.order = parseOrder(value);
    for (const term of embed.order) requireColumn(embed.table, term.column);
  } else if (key === "limit") embed.limit = parseNonNegative("limit", value);
  else if (key === "offset") embed.offset = parseNonNegative("offset", value);
  else if (LOGIC_KEYS[key] || embed.table.columns.has(key)) {
    const condition = LOGIC_KEYS[key]
      ? parseLogic(LOGIC_KEYS[key].or, LOGIC_KEYS[key].negate, value)
      : parseFilter(key, value);
    requireConditionColumns(embed.table, condition);
    embed.conditions.push(condition);
  } else if (key.includes(".")) throw unsupported("Filtering embedded resources deeper than one level");
  else throw unknownColumn(embed.table.name, key);
}

export function requireColumn(source: Source, column: string): Column {
  const found = source.columns.get(column);
  if (!found) throw unknownColumn(source.name, column);
  return found;
}

function requireConditionColumns(source: Source, condition: Condition) {
  if (condition.kind === "filter") requireColumn(source, condition.column);
  else condition.children.forEach((child) => requireConditionColumns(source, child));
}

function isUnique(table: Table | undefined, columns: string[]): boolean {
  const wanted = [...columns].sort().join(",");
  return Boolean(table?.uniqueKeys.some((key) => [...key].sort().join(",") === wanted));
}

/** Every foreign key between `parent` and `target` (in either direction), or through the column `target`. */
function relationshipsBetween(cache: SchemaCache, parent: string, target: string): Relationship[] {
  const rels: Relationship[] = [];
  const parentTable = cache.tables.get(parent);
  for (const fk of cache.foreignKeys) {
    const base = {
      constraint: fk.name,
      fkColumns: fk.columns,
      fkTable: fk.table,
      refColumns: fk.refColumns,
      refTable: fk.refTable,
    };
    const viaColumn = !cache.tables.has(target) && fk.columns.length === 1 && fk.columns[0] === target;
    if (fk.table === parent && (fk.refTable === target || viaColumn)) {
      rels.push({
        ...base,
        table: fk.refTable,
        pairs: fk.columns.map((c, i) => ({ parent: c, child: fk.refColumns[i] })),
        toOne: true,
        cardinality: isUnique(parentTable, fk.columns) ? "one-to-one" : "many-to-one",
      });
    }
    if (fk.refTable === parent && fk.table === target) {
      const oneToOne = isUnique(cache.tables.get(target), fk.columns);
      rels.push({
        ...base,
        table: fk.table,
        pairs: fk.refColumns.map((c, i) => ({ parent: c, child: fk.columns[i] })),
        toOne: oneToOne,
        cardinality: oneToOne ? "one-to-one" : "one-to-many",
      });
    }
  }
  return rels;
}

/** Finds the one foreign key that `target[!hint]` names from `parent`, as PostgREST resolves embeds. */
export function resolveEmbed(
  cache: SchemaCache,
  parent: string,
  target: string,
  hint: string | undefined,
): { table: Table; rel: Relationship } {
  let rels = relationshipsBetween(cache, parent, target);
  if (hint !== undefined) {
    rels = rels.filter((rel) =>
      rel.constraint === hint || (rel.fkColumns.length === 1 && rel.fkColumns[0] === hint)
    );
  }
  if (rels.length === 0) {
    const junction = cache.foreignKeys.some((a) =>
      a.refTable === parent && cache.foreignKeys.some((b) => b.table === a.table && b.refTable === target)
    );
    if (junction && cache.tables.has(target)) {
      throw unsupported("Many-to-many embedding through a junction table");
    }
    throw pgrstError(
      400,
      "PGRST200",
      `Could not find a relationship between '${parent}' and '${target}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent}' and '${target}'${
        hint === undefined ? "" : ` using the hint '${hint}'`
      } in the schema '${SCHEMA}', but no matches were found.`,
    );
  }
  if (rels.length > 1) {
    const details = rels.map((rel) => ({
      cardinality: rel.cardinality,
      embedding: `${parent} with ${target}`,
      relationship: `${rel.constraint} using ${rel.fkTable}(${
        rel.fkColumns.join(", ")
      }) and ${rel.refTable}(${rel.refColumns.join(", ")})`,
    }));
    throw pgrstError(
      300,
      "PGRST201",
      `Could not embed because more than one relationship was found for '${parent}' and '${target}'`,
      details,
      `Try changing '${target}' to one of the following: ${
        rels.map((rel) => `'${target}!${rel.constraint}'`).join(", ")
      }. Find the desired relationship in the 'details' key.`,
    );
  }
  const rel = rels[0];
  return { table: cache.tables.get(rel.table)!, rel };
}

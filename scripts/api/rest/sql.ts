/**
 * SQL for a plan, built with postgres.js fragments: identifiers come from the schema cache and
 * go through `sql(identifier)`, types (from format_type) through `sql.unsafe`, and every value
 * the client sent is a bound parameter. Parameters are typed text and cast in SQL, so postgres.js
 * never re-serialises them by the type the server infers (it would JSON-encode a json value
 * twice, or turn "true" into 'f').
 */
import type postgres from "postgres";
import type { Condition, OrderTerm, SelectItem } from "./parse.ts";
import type { EmbedPlan, ReadPlan } from "./plan.ts";
import { type Column, SCHEMA } from "./schema.ts";

type Sql = postgres.Sql;
type Fragment = postgres.Fragment;

/** Supabase's default `max_rows` (supabase/config.toml): no read answers more rows. */
export const MAX_ROWS = 1000;

const TEXT_OID = 25;

export function text(tx: Sql, value: string): postgres.Parameter<string> {
  return tx.typed(value, TEXT_OID) as postgres.Parameter<string>;
}

export function join(tx: Sql, parts: Fragment[], separator: Fragment): Fragment {
  if (parts.length === 0) return tx``;
  return tx`${parts.flatMap((part, i) => i === 0 ? [part] : [separator, part])}`;
}

export function column(tx: Sql, alias: string, name: string): Fragment {
  return tx`${tx(alias)}.${tx(name)}`;
}

const OPERATORS: Record<string, string> = {
  eq: "=",
  neq: "<>",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  like: "like",
  ilike: "ilike",
  match: "~",
  imatch: "~*",
  cs: "@>",
  cd: "<@",
  ov: "&&",
  sl: "<<",
  sr: ">>",
  nxr: "&<",
  nxl: "&>",
  adj: "-|-",
  isdistinct: "is distinct from",
};
const PATTERN_OPERATORS = new Set(["like", "ilike", "match", "imatch"]);

/** One filter or group on the rows of `alias`; values are cast to the column's type. */
export function conditionSql(
  tx: Sql,
  alias: string,
  columns: Map<string, Column>,
  condition: Condition,
): Fragment {
  if (condition.kind === "group") {
    const children = condition.children.map((child) => conditionSql(tx, alias, columns, child));
    const group = tx`(${join(tx, children, condition.or ? tx` or ` : tx` and `)})`;
    return condition.negate ? tx`not ${group}` : group;
  }
  const target = column(tx, alias, condition.column);
  const type = tx.unsafe(columns.get(condition.column)!.baseType);
  const { op, value } = condition;
  let expression: Fragment;
  if (op === "is") expression = tx`${target} is ${tx.unsafe(value as string)}`; // null, true, false or unknown
  else if (op === "in") {
    const values = (value as string[]).map((v) => tx`${text(tx, v)}::${type}`);
    expression = values.length === 0 ? tx`false` : tx`${target} in (${join(tx, values, tx`, `)})`;
  } else if (PATTERN_OPERATORS.has(op)) {
    const pattern = op === "like" || op === "ilike"
      ? (value as string).replaceAll("*", "%")
      : value as string;
    expression = tx`${target} ${tx.unsafe(OPERATORS[op])} ${text(tx, pattern)}::text`;
  } else expression = tx`${target} ${tx.unsafe(OPERATORS[op])} ${text(tx, value as string)}::${type}`;
  return condition.negate ? tx`not (${expression})` : expression;
}

function whereSql(tx: Sql, conditions: Fragment[]): Fragment {
  return conditions.length === 0 ? tx`` : tx`where ${join(tx, conditions, tx` and `)}`;
}

function orderSql(tx: Sql, alias: string, order: OrderTerm[]): Fragment {
  if (order.length === 0) return tx``;
  const terms = order.map((term) => {
    const direction = term.descending ? tx`desc` : tx`asc`;
    const nulls = term.nulls === "first" ? tx`nulls first` : term.nulls === "last" ? tx`nulls last` : tx``;
    return tx`${column(tx, alias, term.column)} ${direction} ${nulls}`;
  });
  return tx`order by ${join(tx, terms, tx`, `)}`;
}

function limitSql(tx: Sql, limit: number | undefined, offset: number | undefined): Fragment {
  const limitPart = limit === undefined ? tx`` : tx`limit ${text(tx, String(limit))}::bigint`;
  const offsetPart = offset ? tx`offset ${text(tx, String(offset))}::bigint` : tx``;
  return tx`${limitPart} ${offsetPart}`;
}

function selectList(
  tx: Sql,
  alias: string,
  items: SelectItem[],
  embedValue: (key: string) => Fragment,
): Fragment {
  const parts = items.flatMap((item): Fragment[] => {
    if (item.kind === "star") return [tx`${tx(alias)}.*`];
    if (item.kind === "column") return [tx`${column(tx, alias, item.name)} as ${tx(item.alias)}`];
    // An embed with an empty select list only filters (`chapters!inner()`), as PostgREST allows.
    return item.items.length === 0 ? [] : [tx`${embedValue(item.alias)} as ${tx(item.alias)}`];
  });
  return join(tx, parts, tx`, `);
}

/** The embedded rows as JSON (an array, or an object or null for to-one), and the "has any" test. */
function embedSql(tx: Sql, parentAlias: string, embed: EmbedPlan, index: number) {
  const alias = `pgrst_embed_${index}`;
  const rowAlias = tx(`${alias}_row`);
  const conditions = [
    ...embed.rel.pairs.map((p) => tx`${column(tx, alias, p.child)} = ${column(tx, parentAlias, p.parent)}`),
    ...embed.conditions.map((c) => conditionSql(tx, alias, embed.table.columns, c)),
  ];
  const from = tx`${tx(SCHEMA)}.${tx(embed.table.name)} as ${tx(alias)} ${whereSql(tx, conditions)}`;
  const rows = embed.countAs === undefined
    ? tx`select ${selectList(tx, alias, embed.items, () => tx`null`)} from ${from}
    ${orderSql(tx, alias, embed.order)} ${limitSql(tx, embed.limit, embed.offset)}`
    : tx`select count(*) as ${tx(embed.countAs)} from ${from} ${limitSql(tx, embed.limit, embed.offset)}`;
  const value = embed.rel.toOne
    ? tx`(select row_to_json(${rowAlias}) from (${rows}) as ${rowAlias})`
    : tx`(select coalesce(json_agg(${rowAlias}), '[]') from (${rows}) as ${rowAlias})`;
  return { value, exists: tx`exists (select 1 from ${from})` };
}

export interface ReadOptions {
  /** The rows' origin, e.g. `public.books as "books"`, named `alias` in the select list and filters. */
  from: Fragment;
  alias: string;
  /** The body is the single row's object (`application/vnd.pgrst.object+json`), not an array. */
  singular: boolean;
  stripNulls: boolean;
  count: boolean;
  /** Caps the rows read (max_rows); mutations return every row they touched. */
  maxRows?: number;
}

/** The body (JSON text), rows in it, and with `count` the rows matching before limit/offset. */
export interface ReadResult {
  body: string;
  page_total: number;
  total?: string;
}

function bodySql(tx: Sql, rows: Fragment, options: ReadOptions): Fragment {
  const json = options.singular
    ? tx`coalesce(json_agg(${rows}) -> 0, 'null')`
    : tx`coalesce(json_agg(${rows}), '[]')`;
  return options.stripNulls ? tx`json_strip_nulls(${json})::text` : tx`${json}::text`;
}

/** One statement answering a read: its JSON body, the number of rows in it and the total count. */
export function readSql(tx: Sql, plan: ReadPlan, options: ReadOptions): Fragment {
  const { alias } = options;
  const embeds = [...plan.embeds.values()].map((embed, i) => ({ embed, ...embedSql(tx, alias, embed, i) }));
  const conditions = [
    ...plan.conditions.map((c) => conditionSql(tx, alias, plan.source.columns, c)),
    ...embeds.filter((e) => e.embed.inner || e.embed.mustBeNull === false).map((e) => e.exists),
    ...embeds.filter((e) => e.embed.mustBeNull === true).map((e) => tx`not ${e.exists}`),
  ];
  const embedValue = (key: string) => embeds.find((e) => e.embed.key === key)!.value;
  const limit = options.maxRows === undefined
    ? plan.limit
    : Math.min(plan.limit ?? Infinity, options.maxRows);
  const where = whereSql(tx, conditions);
  const rows = tx`select ${selectList(tx, alias, plan.items, embedValue)} from ${options.from} ${where}
    ${orderSql(tx, alias, plan.order)} ${limitSql(tx, limit, plan.offset)}`;
  const total = options.count ? tx`, (select count(*) from ${options.from} ${where})::text as total` : tx``;
  return tx`select ${bodySql(tx, tx`pgrst_row`, options)} as body, count(*)::int as page_total ${total}
    from (${rows}) as pgrst_row`;
}

/** A read of a function's scalar results (`setof integer`, `uuid`): only limit/offset apply. */
export function scalarReadSql(tx: Sql, plan: ReadPlan, options: ReadOptions): Fragment {
  const limit = Math.min(plan.limit ?? Infinity, MAX_ROWS);
  const total = options.count ? tx`, (select count(*) from ${options.from})::text as total` : tx``;
  return tx`select ${
    bodySql(tx, tx`pgrst_row.pgrst_scalar`, options)
  } as body, count(*)::int as page_total ${total}
    from (select pgrst_call.pgrst_scalar from ${options.from} ${
    limitSql(tx, limit, plan.offset)
  }) as pgrst_row`;
}

/** The columns a mutation must return for the read of its representation (`RETURNING`). */
export function returningSql(tx: Sql, alias: string, plan: ReadPlan | undefined): Fragment {
  if (!plan) return tx`1`; // no SELECT privilege or policy needed when nothing is returned
  if (plan.items.some((item) => item.kind === "star")) return tx`${tx(alias)}.*`;
  const needed = new Set<string>();
  for (const item of plan.items) if (item.kind === "column") needed.add(item.name);
  for (const embed of plan.embeds.values()) for (const pair of embed.rel.pairs) needed.add(pair.parent);
  for (const term of plan.order) needed.add(term.column);
  if (needed.size === 0) return tx`1`;
  return join(tx, [...needed].map((name) => column(tx, alias, name)), tx`, `);
}

/** `json_to_recordset(...) as pgrst_body("a" type, ...)`'s column definitions. */
export function typedColumns(tx: Sql, columns: Column[]): Fragment {
  return join(tx, columns.map((c) => tx`${tx(c.name)} ${tx.unsafe(c.type)}`), tx`, `);
}

/** `where ...` for a mutation's filters on `alias`. */
export function filtersSql(
  tx: Sql,
  alias: string,
  columns: Map<string, Column>,
  conditions: Condition[],
): Fragment {
  return whereSql(tx, conditions.map((c) => conditionSql(tx, alias, columns, c)));
}

/**
 * An insert's rows from the JSON payload, each value converted to its column's type. With
 * `missingDefault` a key an object lacks takes the column's default instead of null.
 */
export function insertValuesSql(
  tx: Sql,
  columns: Column[],
  rows: Record<string, unknown>[],
  missingDefault: boolean,
): Fragment {
  if (columns.length === 0) {
    return tx`select from json_array_elements(${text(tx, JSON.stringify(rows))}::json)`;
  }
  if (!missingDefault) {
    const values = join(tx, columns.map((c) => column(tx, "pgrst_body", c.name)), tx`, `);
    return tx`select ${values}
      from json_to_recordset(${text(tx, JSON.stringify(rows))}::json) as pgrst_body(${
      typedColumns(tx, columns)
    })`;
  }
  const cell = (row: Record<string, unknown>, c: Column) => {
    if (!(c.name in row)) return tx`default`;
    const value = text(tx, JSON.stringify({ [c.name]: row[c.name] }));
    return tx`(select ${tx(c.name)} from json_to_record(${value}::json) as pgrst_body(${
      typedColumns(tx, [c])
    }))`;
  };
  const tuples = rows.map((row) => tx`(${join(tx, columns.map((c) => cell(row, c)), tx`, `)})`);
  return tx`values ${join(tx, tuples, tx`, `)}`;
}

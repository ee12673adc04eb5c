/**
 * The query string as PostgREST reads it: `select`, filters (`col=op.value`, `or=(...)`), `order`,
 * `limit`/`offset`, plus the `Range` and `Prefer` headers. Parsing only: names are checked
 * against the schema cache when the query is planned (plan.ts).
 */
import { parseError, pgrstError, unsupported } from "./errors.ts";

export type SelectItem =
  | { kind: "star" }
  | { kind: "column"; name: string; alias: string }
  | {
    kind: "embed";
    /** A table name, or a foreign key column of the parent (`user_id(*)`). */
    target: string;
    alias: string;
    hint?: string;
    inner: boolean;
    items: SelectItem[];
  };

/** One filter (`title=eq.x`), a group (`or=(...)`), or `embed=is.null` on an embedded resource. */
export type Condition =
  | { kind: "filter"; column: string; negate: boolean; op: string; value: string | string[] }
  | { kind: "group"; negate: boolean; or: boolean; children: Condition[] };

export interface OrderTerm {
  column: string;
  descending: boolean;
  nulls?: "first" | "last";
}

/** Splits on `separator` outside parentheses and double quotes. */
export function splitTopLevel(text: string, separator = ","): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) {
      current += c + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    else if (!quoted && c === "(") depth++;
    else if (!quoted && c === ")") depth--;
    if (c === separator && depth === 0 && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** `"a \"b\""` → `a "b"`; unquoted text is returned as is. */
function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    return text.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  return text;
}

/** Parses `select`: columns, `alias:column`, `*` and one level of embedded resources. */
export function parseSelect(text: string, nested = false): SelectItem[] {
  if (text === "") return [];
  return splitTopLevel(text).map((raw) => {
    const item = raw.trim();
    if (item === "") throw parseError("select parameter", text, "unexpected empty item");
    if (item.startsWith("...")) throw unsupported("Spreading an embedded resource ('...')");
    const open = item.indexOf("(");
    if (open >= 0) {
      if (!item.endsWith(")")) throw parseError("select parameter", text, `unexpected text after '${item}'`);
      if (nested) throw unsupported("Embedding deeper than one level");
      const { alias, name } = splitAlias(item.slice(0, open), text);
      const inside = item.slice(open + 1, -1);
      const [target, ...modifiers] = name.split("!");
      if (target.includes(".") || (target === "count" && inside === "")) {
        throw unsupported("Aggregate functions in select");
      }
      let inner = false;
      let hint: string | undefined;
      for (const modifier of modifiers) {
        if (modifier === "inner") inner = true;
        else if (modifier === "left") inner = false;
        else if (hint === undefined && modifier !== "") hint = modifier;
        else throw parseError("select parameter", text, `unexpected '!${modifier}'`);
      }
      return {
        kind: "embed",
        target: unquote(target),
        alias: alias ?? unquote(target),
        hint,
        inner,
        items: parseSelect(inside, true),
      };
    }
    if (item === "*") return { kind: "star" };
    const { alias, name } = splitAlias(item, text);
    if (name.includes("::")) throw unsupported("Casting columns in select ('::')");
    if (name.includes("->")) throw unsupported("JSON paths in select ('->')");
    if (name.includes(".")) throw unsupported("Aggregate functions in select");
    const column = unquote(name);
    return { kind: "column", name: column, alias: alias ?? column };
  });
}

/** `alias:name` (a `::` cast is not an alias). */
function splitAlias(item: string, text: string): { alias?: string; name: string } {
  const match = item.match(/^("[^"]*"|[^:"]+):(?!:)(.*)$/);
  if (!match) return { name: item };
  if (match[2] === "") throw parseError("select parameter", text, `expected a field after '${match[1]}:'`);
  return { alias: unquote(match[1]), name: match[2] };
}

const SIMPLE_OPS = new Set([
  "eq",
  "neq",
  "gt",
  "gte",
  "lt",
  "lte",
  "like",
  "ilike",
  "match",
  "imatch",
  "cs",
  "cd",
  "ov",
  "sl",
  "sr",
  "nxr",
  "nxl",
  "adj",
  "isdistinct",
]);
const FULL_TEXT_OPS = new Set(["fts", "plfts", "phfts", "wfts"]);

/** Parses a filter's value side: `[not.]op.value`. */
export function parseFilter(column: string, text: string): Condition {
  let rest = text;
  let negate = false;
  if (rest.startsWith("not.")) {
    negate = true;
    rest = rest.slice(4);
  }
  const dot = rest.indexOf(".");
  const opText = dot < 0 ? rest : rest.slice(0, dot);
  const value = dot < 0 ? undefined : rest.slice(dot + 1);
  const op = opText.replace(/\((any|all)\)$/, "");
  if (op !== opText) throw unsupported("The (any)/(all) filter modifiers");
  if (FULL_TEXT_OPS.has(op.replace(/\(.*\)$/, ""))) throw unsupported("Full-text search filters");
  if (value === undefined) {
    throw parseError("filter", text, "expecting \"not\" or operator (eq, gt, ...) followed by '.'");
  }
  if (op === "in") {
    if (!value.startsWith("(") || !value.endsWith(")")) {
      throw parseError("filter", text, "expecting a list of values in parentheses, e.g. in.(1,2)");
    }
    const inner = value.slice(1, -1);
    const values = inner === "" ? [] : splitTopLevel(inner).map(unquote);
    return { kind: "filter", column, negate, op, value: values };
  }
  if (op === "is") {
    const lower = value.toLowerCase();
    if (!["null", "true", "false", "unknown"].includes(lower)) {
      throw parseError("filter", text, "expecting null or trilean value (unknown, true, false)");
    }
    return { kind: "filter", column, negate, op, value: lower };
  }
  if (!SIMPLE_OPS.has(op)) throw parseError("filter", text, 'expecting "not" or operator (eq, gt, ...)');
  return { kind: "filter", column, negate, op, value };
}

/** Parses `or=(...)` / `and=(...)`: `(a.eq.1,and(b.gt.2,c.is.null),d.not.in.(1,2))`. */
export function parseLogic(or: boolean, negate: boolean, text: string): Condition {
  if (!text.startsWith("(") || !text.endsWith(")")) {
    throw parseError("logic tree", text, "expecting conditions in parentheses, e.g. or=(a.eq.1,b.eq.2)");
  }
  const children = splitTopLevel(text.slice(1, -1)).map((part): Condition => {
    const group = part.match(/^(not\.)?(or|and)(\(.*\))$/);
    if (group) return parseLogic(group[2] === "or", Boolean(group[1]), group[3]);
    const dot = part.indexOf(".");
    if (dot <= 0) {
      throw parseError("logic tree", text, `expecting a condition like column.op.value, got '${part}'`);
    }
    const filter = parseFilter(unquote(part.slice(0, dot)), part.slice(dot + 1));
    if (filter.kind === "filter" && typeof filter.value === "string" && filter.op !== "is") {
      filter.value = unquote(filter.value);
    }
    return filter;
  });
  return { kind: "group", negate, or, children };
}

/** Parses `order=col.desc.nullslast,other`. */
export function parseOrder(text: string): OrderTerm[] {
  return splitTopLevel(text).map((term) => {
    if (term.includes("(")) throw unsupported("Ordering by a column of an embedded resource");
    if (term.includes("->")) throw unsupported("Ordering by a JSON path");
    const [column, ...modifiers] = term.split(".");
    if (column === "") throw parseError("order", text, "expecting a column name");
    const order: OrderTerm = { column: unquote(column), descending: false };
    for (const modifier of modifiers) {
      if (modifier === "asc" || modifier === "desc") order.descending = modifier === "desc";
      else if (modifier === "nullsfirst" || modifier === "nullslast") {
        order.nulls = modifier === "nullsfirst" ? "first" : "last";
      } else {throw parseError(
          "order",
          text,
          `unexpected '${modifier}', expecting asc, desc, nullsfirst or nullslast`,
        );}
    }
    return order;
  });
}

export function parseNonNegative(name: string, text: string): number {
  if (!/^\d+$/.test(text)) throw parseError(`${name} parameter`, text, "expecting a non-negative integer");
  return Number(text);
}

/** Parses a comma-separated column list (`columns`, `on_conflict`), names optionally quoted. */
export function parseColumnList(text: string): string[] {
  return splitTopLevel(text).map((c) => unquote(c.trim())).filter((c) => c !== "");
}

/** The Range request header (`0-9`, `items=0-9`, `10-`) as offset and optional limit. */
export function parseRangeHeader(text: string | null): { offset: number; limit?: number } | undefined {
  if (!text) return undefined;
  const match = text.trim().match(/^(?:items=)?(\d+)-(\d*)$/);
  if (!match) return undefined;
  const from = Number(match[1]);
  if (match[2] === "") return { offset: from };
  const to = Number(match[2]);
  if (to < from) {
    throw pgrstError(
      416,
      "PGRST103",
      "Requested range not satisfiable",
      "The lower boundary must be lower than or equal to the upper boundary in the Range header.",
    );
  }
  return { offset: from, limit: to - from + 1 };
}

export interface Preferences {
  return: "representation" | "minimal" | "headers-only";
  count: boolean;
  resolution?: "merge-duplicates" | "ignore-duplicates";
  missingDefault: boolean;
}

/** Reads every Prefer header (supabase-js may send several, joined with commas); unknown ones are ignored. */
export function parsePreferences(header: string | null): Preferences {
  const prefs: Preferences = { return: "minimal", count: false, missingDefault: false };
  for (const part of (header ?? "").split(",")) {
    const [key, value] = part.trim().split("=").map((s) => s.trim());
    if (key === "return" && (value === "representation" || value === "minimal" || value === "headers-only")) {
      prefs.return = value;
    } else if (key === "count" && ["exact", "planned", "estimated"].includes(value)) prefs.count = true;
    else if (key === "resolution" && (value === "merge-duplicates" || value === "ignore-duplicates")) {
      prefs.resolution = value;
    } else if (key === "missing") prefs.missingDefault = value === "default";
    else if (key === "tx" && value === "rollback") throw unsupported("Prefer: tx=rollback");
    else if (key === "params" && value === "single-object") throw unsupported("Prefer: params=single-object");
    else if (key === "max-affected") throw unsupported("Prefer: max-affected");
  }
  return prefs;
}

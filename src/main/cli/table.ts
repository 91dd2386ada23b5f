// Tables in the CLI's text output: an analysis's `summary` result {columns, table: rows}.

/**
 * A result of the form {columns, table: rows, labels?: {column: header}}, as aligned text
 * columns (integers as they are, other numbers to 3 decimals, missing values as "-"); nothing for other data.
 */
export function tableText(data: Record<string, unknown>): string[] {
  const { columns, table, labels } = data as { columns?: unknown; table?: unknown; labels?: Record<string, string> };
  if (!Array.isArray(columns) || !Array.isArray(table)) return [];
  const cell = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(3) : '-') : v === null || v === undefined ? '-' : String(v));
  const rows = [columns.map((c: string) => labels?.[c] ?? c), ...table.map((row: Record<string, unknown>) => columns.map((c: string) => cell(row[c])))];
  const widths = columns.map((_, k) => Math.max(...rows.map((r) => r[k].length)));
  return rows.map((r) => r.map((v, k) => (k === 0 ? v.padEnd(widths[k]) : v.padStart(widths[k]))).join('  '));
}

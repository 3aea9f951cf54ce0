import { Option } from 'commander';
import { ApiClient } from './api/client';

export type OutputFormat = 'table' | 'json';

/** `-o, --output table|json`, on every command that prints a result. */
export const outputOption = () =>
  new Option('-o, --output <format>', 'table for people, json for scripts')
    .choices(['table', 'json'])
    .default('table');

/** `--json`: shorthand for `--output json`. */
export const jsonOption = () => new Option('--json', 'same as --output json');

export interface OutputOptions {
  output?: OutputFormat;
  json?: boolean;
}

export const wantsJson = (options: OutputOptions) => options.json || options.output === 'json';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Plain-text tables for the terminal: left-aligned columns separated by two spaces, so
 * `column -t`, `awk` and `grep` keep working on the output.
 */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** A table, or `empty` when there are no rows. */
export function printTable(headers: string[], rows: string[][], empty: string): void {
  process.stdout.write(rows.length ? formatTable(headers, rows) : `${empty}\n`);
}

/** One resource as `field  value` lines (without `_links`), for `show`. */
export function printDetail(item: Record<string, unknown>): void {
  const rows = Object.entries(item)
    .filter(([key]) => key !== '_links')
    .map(([key, value]) => [key, cell(value)]);
  const width = Math.max(...rows.map(([key]) => key.length));
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
}

/** A value as one table cell: null as `-`, lists comma-separated, objects as JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value))
    return value.length
      ? value
          .map((v: unknown) => (v && typeof v === 'object' && 'user' in v ? cell(v.user) : cell(v)))
          .join(',')
      : '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value as string | number | boolean);
}

/** The id at the end of a resource URL (`http://host/api/team/2/` → `2`). */
export const idOf = (url: string | null | undefined): string =>
  url ? (/\/(\d+)\/?$/.exec(url)?.[1] ?? url) : '-';

/**
 * Names for the references of a list (`.../api/team/1/` → `dbaas`), each URL read once.
 * A reference the user may not read shows as its id.
 */
export class Names {
  private readonly cache = new Map<string, Promise<string>>();

  constructor(private readonly client: ApiClient) {}

  of(url: string | null | undefined): Promise<string> {
    if (!url) return Promise.resolve('-');
    let name = this.cache.get(url);
    if (!name) {
      name = this.read(url).catch(() => idOf(url));
      this.cache.set(url, name);
    }
    return name;
  }

  private async read(url: string): Promise<string> {
    const item = await this.client.get<Record<string, unknown>>(url);
    // An engine is its type plus version: "postgresql 15".
    if (typeof item.engine_type === 'string')
      return `${await this.of(item.engine_type)} ${cell(item.version)}`.trim();
    const label = item.name ?? item.username ?? item.user;
    return label === undefined || label === null ? idOf(url) : cell(label);
  }
}

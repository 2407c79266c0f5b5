// What every page is built from: loading data with its error, a sortable table, and the notes a page shows.
import { type ReactNode, useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `key` changes (and on reload); a failed load shows its error instead of data. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const run = useCallback(load, [key, round]);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    run().then(
      (data) => current && setState({ data, error: null, loading: false }),
      (error: Error) => current && setState({ data: null, error: error.message, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [run]);
  return { ...state, reload: () => setRound((r) => r + 1) };
}

/** Reloads every two seconds while `live` (a job or a rollout that has not ended). */
export function useRefresh(live: boolean, reload: () => void) {
  useEffect(() => {
    if (!live) return;
    const timer = window.setTimeout(reload, 2000);
    return () => window.clearTimeout(timer);
  });
}

export function Problem({ error }: { error: string | null }) {
  return error ? (
    <p className="problem" role="alert">
      {error}
    </p>
  ) : null;
}

export function Page<T>({ title, loaded, children }: { title: string; loaded: Loaded<T>; children: (data: T) => ReactNode }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title">{title}</h1>
      <Problem error={loaded.error} />
      {loaded.loading && !loaded.data ? <p aria-live="polite">Loading…</p> : null}
      {loaded.data ? children(loaded.data) : null}
    </section>
  );
}

export interface Column<R> {
  key: string;
  label: string;
  value: (row: R) => string | number | null | undefined;
  render?: (row: R) => ReactNode;
  numeric?: boolean;
}

/** A table sorted by any column (its header is a button: keyboard and screen readers reach it). */
export function Table<R>({
  caption,
  columns,
  rows,
  rowKey,
  empty = "Nothing yet.",
}: {
  caption: string;
  columns: Column<R>[];
  rows: R[];
  rowKey: (row: R) => string;
  empty?: string;
}) {
  const [sort, setSort] = useState<{ key: string; ascending: boolean } | null>(null);
  const column = columns.find((c) => c.key === sort?.key);
  const shown = column
    ? [...rows].sort((a, b) => {
        const x = column.value(a) ?? "";
        const y = column.value(b) ?? "";
        const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
        return sort?.ascending ? order : -order;
      })
    : rows;
  if (!rows.length) return <p>{empty}</p>;
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          {columns.map((c) => (
            <th
              key={c.key}
              scope="col"
              aria-sort={sort?.key === c.key ? (sort.ascending ? "ascending" : "descending") : "none"}
            >
              <button
                type="button"
                className="sort"
                onClick={() => setSort({ key: c.key, ascending: sort?.key === c.key ? !sort.ascending : true })}
              >
                {c.label}
              </button>
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {shown.map((row) => (
          <tr key={rowKey(row)}>
            {columns.map((c) => (
              <td key={c.key} className={c.numeric ? "numeric" : undefined}>
                {c.render ? c.render(row) : (c.value(row) ?? "")}
              </td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function when(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === "") return "";
  const date = typeof ms === "number" || /^\d+$/.test(ms) ? new Date(Number(ms)) : new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString().replace("T", " ").slice(0, 19);
}

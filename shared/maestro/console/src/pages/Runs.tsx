// Experiments and their runs: a sortable table filtered with MLflow's search grammar (every page of runs), the
// runs on parallel coordinates over their numeric parameters and metrics, and a side-by-side comparison of
// the runs chosen (optionally only what differs) with one metric of all of them on one chart.
import { useState } from "react";
import { api, data } from "../api";
import { type Axis, LineChart, ParallelCoordinates } from "../charts";
import { Page, Problem, Table, useLoad, when } from "../components";
import { ML, byKey, type Experiment, type Run } from "../mlflow";
import { history } from "./RunDetail";

const MAX_AXES = 8;

/** The numeric parameters and the metrics as axes (those every run lacks, or that never vary, left out). */
function axesOf(rows: Run[], paramKeys: string[], metricKeys: string[]): Axis[] {
  const axes: Axis[] = [
    ...paramKeys.map((k) => ({ label: k, values: rows.map((r) => toNumber(byKey(r.data.params)[k])) })),
    ...metricKeys.map((k) => ({ label: k, values: rows.map((r) => toNumber(byKey(r.data.metrics)[k])) })),
  ];
  const varies = (a: Axis) => new Set(a.values.filter((v) => v !== undefined)).size > 1;
  const numeric = (a: Axis, n: number) => n >= paramKeys.length || rows.every((r, i) => a.values[i] !== undefined || byKey(r.data.params)[a.label] === undefined);
  return axes.filter((a, n) => varies(a) && numeric(a, n)).slice(-MAX_AXES);
}

/** A metric as people read it: six significant digits (0.9510000000000001 is 0.951). */
const short = (v: number | undefined) => (v === undefined ? "" : String(Number(v.toPrecision(6))));

function toNumber(v: string | number | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}


export function Runs({ experiment }: { experiment: string | null }) {
  const [filter, setFilter] = useState("");
  const [applied, setApplied] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [comparing, setComparing] = useState(false);
  const experiments = useLoad(async () => {
    const found = await data(api.POST(`${ML}/experiments/search`, { body: { max_results: 1000 } }));
    return (found.experiments ?? []) as Experiment[];
  }, "experiments");
  const current = experiment ?? experiments.data?.[0]?.experiment_id ?? null;
  const runs = useLoad(async () => {
    if (!current) return [] as Run[];
    const found: Run[] = [];
    let token: string | undefined;
    do {
      const page = await data(
        api.POST(`${ML}/runs/search`, {
          body: { experiment_ids: [current], filter: applied || null, max_results: 1000, page_token: token ?? null },
        }),
      );
      found.push(...((page.runs ?? []) as Run[]));
      token = (page.next_page_token as string | undefined) || undefined;
    } while (token && found.length < 5000);
    return found;
  }, `runs:${current}:${applied}`);
  const rows = runs.data ?? [];
  const metricKeys = [...new Set(rows.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  const paramKeys = [...new Set(rows.flatMap((r) => (r.data.params ?? []).map((p) => p.key)))].sort();
  const toggle = (id: string) => setChosen((c) => (c.includes(id) ? c.filter((x) => x !== id) : [...c, id]));
  return (
    <Page title="Experiments and runs" loaded={experiments}>
      {(list) => (
        <>
          <label>
            Experiment{" "}
            <select
              value={current ?? ""}
              onChange={(e) => {
                window.location.hash = `#/runs/${encodeURIComponent(e.target.value)}`;
                setChosen([]);
              }}
            >
              {list.map((e) => (
                <option key={e.experiment_id} value={e.experiment_id}>
                  {e.name}
                </option>
              ))}
            </select>
          </label>
          <form
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setApplied(filter.trim());
            }}
          >
            <label>
              Filter (MLflow search grammar){" "}
              <input
                value={filter}
                size={50}
                placeholder="metrics.auc > 0.8 and params.model = 'xgb'"
                onChange={(e) => setFilter(e.target.value)}
              />
            </label>{" "}
            <button type="submit">Search</button>
          </form>
          <Problem error={runs.error} />
          <p>
            <button type="button" disabled={chosen.length < 2} onClick={() => setComparing(true)}>
              Compare {chosen.length} runs
            </button>
          </p>
          <Table
            caption={`${rows.length} runs`}
            rows={rows}
            rowKey={(r) => r.info.run_id}
            empty={runs.loading ? "Loading…" : "No run matches."}
            columns={[
              {
                key: "pick",
                label: "Compare",
                value: (r) => (chosen.includes(r.info.run_id) ? 1 : 0),
                render: (r) => (
                  <input
                    type="checkbox"
                    aria-label={`compare ${r.info.run_name ?? r.info.run_id}`}
                    checked={chosen.includes(r.info.run_id)}
                    onChange={() => toggle(r.info.run_id)}
                  />
                ),
              },
              {
                key: "name",
                label: "Run",
                value: (r) => r.info.run_name ?? r.info.run_id,
                render: (r) => <a href={`#/run/${r.info.run_id}`}>{r.info.run_name ?? r.info.run_id}</a>,
              },
              { key: "status", label: "Status", value: (r) => r.info.status ?? "" },
              { key: "start", label: "Started (UTC)", value: (r) => when(r.info.start_time) },
              ...metricKeys.map((k) => ({
                key: `m:${k}`,
                label: k,
                numeric: true,
                value: (r: Run) => byKey(r.data.metrics)[k] as number | undefined,
                render: (r: Run) => short(byKey(r.data.metrics)[k] as number | undefined),
              })),
              ...paramKeys.map((k) => ({ key: `p:${k}`, label: `param ${k}`, value: (r: Run) => byKey(r.data.params)[k] })),
            ]}
          />
          {rows.length > 1 ? (
            <ParallelView rows={rows} axes={axesOf(rows, paramKeys, metricKeys)} chosen={chosen} />
          ) : null}
          {comparing ? (
            <Comparison runs={rows.filter((r) => chosen.includes(r.info.run_id))} onClose={() => setComparing(false)} />
          ) : null}
        </>
      )}
    </Page>
  );
}

function Comparison({ runs, onClose }: { runs: Run[]; onClose: () => void }) {
  const [onlyDiffering, setOnlyDiffering] = useState(true);
  const lines = (kind: "params" | "metrics") => {
    const keys = [...new Set(runs.flatMap((r) => (r.data[kind] ?? []).map((p) => p.key)))].sort();
    return keys
      .map((key) => ({ key, values: runs.map((r) => byKey(r.data[kind])[key]) }))
      .filter((l) => !onlyDiffering || new Set(l.values.map(String)).size > 1);
  };
  return (
    <section aria-labelledby="comparison">
      <h2 id="comparison">Comparison</h2>
      <label>
        <input type="checkbox" checked={onlyDiffering} onChange={(e) => setOnlyDiffering(e.target.checked)} /> Only
        what differs
      </label>{" "}
      <button type="button" onClick={onClose}>
        Close
      </button>
      <MetricOfRuns runs={runs} />
      <table>
        <caption>{runs.length} runs side by side</caption>
        <thead>
          <tr>
            <th scope="col">Field</th>
            {runs.map((r) => (
              <th scope="col" key={r.info.run_id}>
                {r.info.run_name ?? r.info.run_id}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {(["params", "metrics"] as const).flatMap((kind) =>
            lines(kind).map((l) => (
              <tr key={`${kind}:${l.key}`} data-field={`${kind}.${l.key}`}>
                <th scope="row">
                  {kind === "params" ? "param" : "metric"} {l.key}
                </th>
                {l.values.map((v, i) => (
                  <td key={i}>{v ?? "—"}</td>
                ))}
              </tr>
            )),
          )}
        </tbody>
      </table>
    </section>
  );
}

function ParallelView({ rows, axes, chosen }: { rows: Run[]; axes: Axis[]; chosen: string[] }) {
  if (axes.length < 2) return <p>Parallel coordinates need two numeric parameters or metrics that vary.</p>;
  const highlight = new Set(rows.flatMap((r, n) => (chosen.includes(r.info.run_id) ? [n] : [])));
  return (
    <figure>
      <ParallelCoordinates
        title={`Parallel coordinates of ${rows.length} runs over ${axes.map((a) => a.label).join(", ")}`}
        axes={axes}
        names={rows.map((r) => r.info.run_name ?? r.info.run_id)}
        highlight={highlight}
      />
      <figcaption>
        {rows.length} runs across {axes.length} axes; the runs chosen for comparison are drawn in red.
      </figcaption>
    </figure>
  );
}

function MetricOfRuns({ runs }: { runs: Run[] }) {
  const keys = [...new Set(runs.flatMap((r) => (r.data.metrics ?? []).map((m) => m.key)))].sort();
  const [key, setKey] = useState(keys[0] ?? "");
  const [log, setLog] = useState(false);
  const ids = runs.map((r) => r.info.run_id).join(",");
  const loaded = useLoad(
    async () =>
      Promise.all(
        runs.map(async (r) => ({
          label: r.info.run_name ?? r.info.run_id,
          points: (await history(r.info.run_id, key)).map((p) => ({ step: p.step ?? 0, value: p.value })),
        })),
      ),
    `histories:${ids}:${key}`,
  );
  if (!keys.length) return null;
  return (
    <section aria-labelledby="metric-of-runs">
      <h3 id="metric-of-runs">One metric of every chosen run</h3>
      <label>
        Metric{" "}
        <select value={key} onChange={(e) => setKey(e.target.value)}>
          {keys.map((k) => (
            <option key={k}>{k}</option>
          ))}
        </select>
      </label>{" "}
      <label>
        <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log scale
      </label>
      <Problem error={loaded.error} />
      {loaded.data ? <LineChart title={`${key} of ${runs.length} runs over steps`} log={log} series={loaded.data} /> : null}
    </section>
  );
}

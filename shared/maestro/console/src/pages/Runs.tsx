// Experiments and their runs: a sortable table filtered with MLflow's search grammar, and a side-by-side
// comparison of the runs chosen (optionally only what differs).
import { useState } from "react";
import { api, data } from "../api";
import { Page, Problem, Table, useLoad, when } from "../components";
import { byKey, type Experiment, type Run } from "../mlflow";

const ML = "/api/2.0/mlflow";

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
              })),
              ...paramKeys.map((k) => ({ key: `p:${k}`, label: `param ${k}`, value: (r: Run) => byKey(r.data.params)[k] })),
            ]}
          />
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

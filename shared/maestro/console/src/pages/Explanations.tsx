// Explanation jobs: the list with each job's progress, and one job: its progress while it runs (refreshed),
// its error if it failed, and once it succeeded its global importance, one row's local explanation (any row
// it explained) and its HTML report.
import { useState } from "react";
import { api, data } from "../api";
import { Bars } from "../charts";
import { Page, Problem, Table, useLoad, useRefresh, when } from "../components";

interface Job {
  job_id: string;
  status: string;
  method: string;
  model: { name: string; version: number };
  created_at?: string;
  progress: { rows_done: number; rows_total: number | null; percent: number };
  error?: { error?: string; reason?: string };
}
interface Summary {
  global_importance: {
    aggregation: string;
    rows: number;
    outputs: { output: number; expected_value: number; features: { feature: string; mean_abs: number }[] }[];
  };
  rows: number[];
  outputs: number[];
  local: {
    row: number;
    output: number;
    expected_value: number;
    output_value: number;
    contributions: { feature: string; shap: number }[];
  };
}

const RUNNING = ["SUBMITTED", "RUNNING"];

function Progress({ job }: { job: Job }) {
  const total = job.progress.rows_total ?? 0;
  return (
    <span>
      <progress value={job.progress.rows_done} max={total || 1} aria-label={`progress of ${job.job_id}`} />{" "}
      {job.progress.percent}% ({job.progress.rows_done} of {total || "?"} rows)
    </span>
  );
}

export function Explanations() {
  const loaded = useLoad(async () => {
    const found = await data(api.GET("/explanations", { params: { query: { limit: 50 } } }));
    return (found.jobs ?? []) as Job[];
  }, "explanations");
  return (
    <Page title="Explanation jobs" loaded={loaded}>
      {(jobs) => (
        <Table
          caption={`${jobs.length} jobs, newest first`}
          rows={jobs}
          rowKey={(j) => j.job_id}
          empty="No explanation job yet: submit one with `maestro explain submit` or POST /explanations."
          columns={[
            { key: "job", label: "Job", value: (j) => j.job_id, render: (j) => <a href={`#/explanations/${j.job_id}`}>{j.job_id}</a> },
            { key: "model", label: "Model", value: (j) => `${j.model.name} v${j.model.version}` },
            { key: "method", label: "Method", value: (j) => j.method },
            { key: "status", label: "Status", value: (j) => j.status },
            { key: "progress", label: "Progress", value: (j) => j.progress.percent, render: (j) => <Progress job={j} /> },
            { key: "created", label: "Submitted (UTC)", value: (j) => when(j.created_at) },
          ]}
        />
      )}
    </Page>
  );
}

export function Explanation({ id }: { id: string }) {
  const job = useLoad(async () => (await data(api.GET("/explanations/{job_id}", { params: { path: { job_id: id } } }))) as unknown as Job, `job:${id}`);
  const running = job.data ? RUNNING.includes(job.data.status) : false;
  useRefresh(running, job.reload);
  return (
    <Page title={`Explanation ${id}`} loaded={job}>
      {(j) => (
        <>
          <p>
            {j.model.name} v{j.model.version} · {j.method} · <strong>{j.status}</strong> · <Progress job={j} />
          </p>
          {j.error ? <Problem error={`${j.error.error ?? "failed"}: ${j.error.reason ?? ""}`} /> : null}
          {j.status === "SUCCEEDED" ? <Results id={id} /> : null}
        </>
      )}
    </Page>
  );
}

function Results({ id }: { id: string }) {
  const [row, setRow] = useState<number | null>(null);
  const summary = useLoad(
    async () =>
      (await data(
        api.GET("/explanations/{job_id}/summary", { params: { path: { job_id: id }, query: { row: row ?? undefined } } }),
      )) as unknown as Summary,
    `summary:${id}:${row}`,
  );
  const openReport = async () => {
    const links = (await data(api.GET("/explanations/{job_id}/results", { params: { path: { job_id: id } } }))) as {
      files: Record<string, string>;
    };
    if (links.files.report) window.open(links.files.report, "_blank", "noopener");
  };
  const s = summary.data;
  if (!s) return <Problem error={summary.error} />;
  const global = s.global_importance.outputs.find((o) => o.output === s.local.output) ?? s.global_importance.outputs[0];
  return (
    <>
      <p>
        <button type="button" onClick={openReport}>
          Open the full report
        </button>
      </p>
      {global ? (
        <section aria-labelledby="global">
          <h2 id="global">
            Global importance <small>(mean |SHAP| over {s.global_importance.rows} rows, output {global.output})</small>
          </h2>
          <Bars title="Global importance by feature" bars={global.features.map((f) => ({ label: f.feature, value: f.mean_abs }))} />
          <Table
            caption="Global importance"
            rows={global.features}
            rowKey={(f) => f.feature}
            columns={[
              { key: "feature", label: "Feature", value: (f) => f.feature },
              { key: "mean_abs", label: "Mean |SHAP|", value: (f) => Number(f.mean_abs.toPrecision(4)), numeric: true },
            ]}
          />
        </section>
      ) : null}
      <section aria-labelledby="local">
        <h2 id="local">Local explanation</h2>
        <label>
          Row{" "}
          <select value={s.local.row} onChange={(e) => setRow(Number(e.target.value))}>
            {s.rows.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <p>
          Row {s.local.row}: base value {s.local.expected_value.toPrecision(4)} + contributions = output{" "}
          {s.local.output_value.toPrecision(4)}
        </p>
        <Bars title={`SHAP contributions for row ${s.local.row}`} bars={s.local.contributions.map((c) => ({ label: c.feature, value: c.shap }))} />
        <Table
          caption={`Contributions for row ${s.local.row}`}
          rows={s.local.contributions}
          rowKey={(c) => c.feature}
          columns={[
            { key: "feature", label: "Feature", value: (c) => c.feature },
            { key: "shap", label: "SHAP value", value: (c) => Number(c.shap.toPrecision(4)), numeric: true },
          ]}
        />
      </section>
    </>
  );
}

// One run: its parameters and tags, and each metric's history over steps (linear or log scale) with its
// minimum, maximum and last value.
import { useState } from "react";
import { api, data } from "../api";
import { LineChart } from "../charts";
import { Page, Table, useLoad, when } from "../components";
import { ML, type Metric, type Run } from "../mlflow";


/** A metric's every value over steps, all pages. */
export async function history(runId: string, key: string): Promise<Metric[]> {
  const found: Metric[] = [];
  let token: string | undefined;
  do {
    const page = await data(
      api.GET(`${ML}/metrics/get-history`, { params: { query: { run_id: runId, metric_key: key, max_results: 25000, page_token: token } } }),
    );
    found.push(...((page.metrics ?? []) as Metric[]));
    token = (page.next_page_token as string | undefined) || undefined;
  } while (token);
  return found.sort((a, b) => (a.step ?? 0) - (b.step ?? 0) || (a.timestamp ?? 0) - (b.timestamp ?? 0));
}

export function RunDetail({ runId }: { runId: string }) {
  const [log, setLog] = useState(false);
  const loaded = useLoad(async () => {
    const run = (await data(api.GET(`${ML}/runs/get`, { params: { query: { run_id: runId } } }))).run as Run;
    const keys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
    const histories = await Promise.all(keys.map(async (key) => ({ key, points: await history(runId, key) })));
    return { run, histories };
  }, `run:${runId}`);
  return (
    <Page title={`Run ${runId}`} loaded={loaded}>
      {({ run, histories }) => (
        <>
          <p>
            {run.info.run_name ?? run.info.run_id} · {run.info.status} · started {when(run.info.start_time)} · by {run.info.user_id ?? "?"}
          </p>
          <Table
            caption="Metrics: minimum, maximum and last value"
            rows={histories}
            rowKey={(h) => h.key}
            columns={[
              { key: "metric", label: "Metric", value: (h) => h.key },
              { key: "min", label: "Min", value: (h) => Math.min(...h.points.map((p) => p.value)), numeric: true },
              { key: "max", label: "Max", value: (h) => Math.max(...h.points.map((p) => p.value)), numeric: true },
              { key: "last", label: "Last", value: (h) => h.points[h.points.length - 1]?.value, numeric: true },
              { key: "steps", label: "Values", value: (h) => h.points.length, numeric: true },
            ]}
          />
          <label>
            <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log scale
          </label>
          {histories.map((h) => (
            <figure key={h.key}>
              <LineChart
                title={`${h.key} over steps${log ? " (log scale)" : ""}`}
                log={log}
                series={[{ label: h.key, points: h.points.map((p) => ({ step: p.step ?? 0, value: p.value })) }]}
              />
              <figcaption>{h.key} over steps</figcaption>
            </figure>
          ))}
          <Table
            caption="Parameters"
            rows={run.data.params ?? []}
            rowKey={(p) => p.key}
            columns={[
              { key: "key", label: "Parameter", value: (p) => p.key },
              { key: "value", label: "Value", value: (p) => p.value },
            ]}
          />
          <Table
            caption="Tags"
            rows={(run.data.tags ?? []).filter((t) => !t.key.startsWith("mlflow.log-model"))}
            rowKey={(t) => t.key}
            columns={[
              { key: "key", label: "Tag", value: (t) => t.key },
              { key: "value", label: "Value", value: (t) => t.value },
            ]}
          />
        </>
      )}
    </Page>
  );
}

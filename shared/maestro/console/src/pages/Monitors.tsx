// Model monitors: each monitored model version with its state at the latest check, and one monitor: every
// column's drift test at the latest check (statistic, threshold, PSI) and the history of its checks.
import { api, data } from "../api";
import { Page, Table, useLoad, when } from "../components";

interface Monitor {
  monitor_id: string;
  spec: { name: string; model: { name: string; version: number }; window_hours: number; min_records: number };
  created_at?: number;
  created_by?: string;
  status?: { state: string; checked_at?: number; drifted_columns?: string[]; quality_failures?: number };
}
interface ColumnDrift {
  column: string;
  method: string;
  statistic: number;
  threshold: number;
  drifted: boolean;
  psi?: number;
  psi_band?: string;
  reference_count: number;
  current_count: number;
}
interface QualityFailure {
  column: string;
  check: string;
  value: unknown;
  limit: unknown;
}
interface Check {
  checked_at: number;
  records: number;
  state: string;
  reason?: string;
  drift?: { drifted_columns: string[]; dataset_drift: boolean; drift_share: number; columns: Record<string, ColumnDrift> };
  quality?: QualityFailure[];
}

const STATES: Record<string, string> = {
  ok: "OK",
  drift: "DRIFT",
  quality: "QUALITY FAILURES",
  insufficient_data: "too few records",
  no_baseline: "no baseline",
  unchecked: "not checked yet",
};
const state = (s: string | undefined) => (s ? (STATES[s] ?? s) : "not checked yet");
const precise = (v: number | undefined) => (v === undefined || v === null ? "" : v.toPrecision(3));

export function Monitors() {
  const loaded = useLoad(async () => ((await data(api.GET("/monitoring/monitors", {}))).monitors ?? []) as Monitor[], "monitors");
  return (
    <Page title="Model monitors" loaded={loaded}>
      {(monitors) => (
        <Table
          caption={`${monitors.length} monitors`}
          rows={monitors}
          rowKey={(m) => m.monitor_id}
          empty="No monitor yet: create one with `maestro monitor create` or POST /monitoring/monitors."
          columns={[
            {
              key: "name",
              label: "Monitor",
              value: (m) => m.spec.name,
              render: (m) => <a href={`#/monitors/${m.monitor_id}`}>{m.spec.name}</a>,
            },
            { key: "model", label: "Model version", value: (m) => `${m.spec.model.name} v${m.spec.model.version}` },
            { key: "state", label: "State", value: (m) => state(m.status?.state) },
            { key: "drifted", label: "Drifted columns", value: (m) => (m.status?.drifted_columns ?? []).join(", ") },
            { key: "quality", label: "Quality failures", value: (m) => m.status?.quality_failures ?? 0, numeric: true },
            { key: "checked", label: "Checked (UTC)", value: (m) => when(m.status?.checked_at) },
          ]}
        />
      )}
    </Page>
  );
}

export function MonitorDetail({ id }: { id: string }) {
  const loaded = useLoad(async () => {
    const path = { monitor_id: id };
    const [monitor, checks] = await Promise.all([
      data(api.GET("/monitoring/monitors/{monitor_id}", { params: { path } })),
      data(api.GET("/monitoring/monitors/{monitor_id}/checks", { params: { path, query: { limit: 50 } } })),
    ]);
    return { monitor: monitor as unknown as Monitor, checks: (checks.checks ?? []) as Check[] };
  }, `monitor:${id}`);
  return (
    <Page title="Monitor" loaded={loaded}>
      {({ monitor, checks }) => {
        const latest = checks[0];
        return (
          <>
            <h2>
              {monitor.spec.name}: {monitor.spec.model.name} v{monitor.spec.model.version}
            </h2>
            <p role="status" className={monitor.status?.state === "ok" ? "ok" : monitor.status ? "problem" : undefined}>
              {state(monitor.status?.state)}
              {monitor.status?.drifted_columns?.length ? `: drift in ${monitor.status.drifted_columns.join(", ")}` : ""} ·
              window {monitor.spec.window_hours} h, at least {monitor.spec.min_records} records
            </p>
            {latest?.drift ? (
              <Table
                caption={`Drift per column at the latest check (${when(latest.checked_at)}, ${latest.records} records)`}
                rows={Object.values(latest.drift.columns)}
                rowKey={(c) => c.column}
                columns={[
                  { key: "column", label: "Column", value: (c) => c.column },
                  { key: "drifted", label: "Drifted", value: (c) => (c.drifted ? "yes" : "no") },
                  { key: "method", label: "Test", value: (c) => c.method },
                  { key: "statistic", label: "Statistic (a p-value for ks and chi²)", value: (c) => precise(c.statistic), numeric: true },
                  { key: "threshold", label: "Threshold", value: (c) => c.threshold, numeric: true },
                  { key: "psi", label: "PSI", value: (c) => precise(c.psi), numeric: true },
                  { key: "band", label: "PSI band", value: (c) => c.psi_band ?? "" },
                  { key: "counts", label: "Baseline / window rows", value: (c) => `${c.reference_count} / ${c.current_count}` },
                ]}
              />
            ) : null}
            {latest?.quality?.length ? (
              <Table
                caption="Data quality failures at the latest check"
                rows={latest.quality}
                rowKey={(f) => `${f.column}:${f.check}`}
                columns={[
                  { key: "column", label: "Column", value: (f) => f.column },
                  { key: "check", label: "Check", value: (f) => f.check },
                  { key: "value", label: "Value", value: (f) => JSON.stringify(f.value) },
                  { key: "limit", label: "Limit", value: (f) => JSON.stringify(f.limit) },
                ]}
              />
            ) : null}
            <Table
              caption={`${checks.length} checks, newest first`}
              rows={checks}
              rowKey={(c) => String(c.checked_at)}
              empty="No check has run yet."
              columns={[
                { key: "at", label: "Checked (UTC)", value: (c) => when(c.checked_at) },
                { key: "state", label: "State", value: (c) => state(c.state) },
                { key: "records", label: "Records", value: (c) => c.records, numeric: true },
                { key: "drifted", label: "Drifted columns", value: (c) => (c.drift?.drifted_columns ?? []).join(", ") },
                { key: "quality", label: "Quality failures", value: (c) => c.quality?.length ?? 0, numeric: true },
              ]}
            />
          </>
        );
      }}
    </Page>
  );
}

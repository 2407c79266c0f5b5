// Rollouts: each alias's traffic moving from one model version to another, and one rollout: its steps
// against the plan, the guardrails it watches, its history (each step, a rollback and why) and, for a
// caller who may, a button that asks it to abort (its workflow rolls it back at its next check).
import { useState } from "react";
import { api, data } from "../api";
import { Page, Problem, Table, useLoad, useRefresh, when } from "../components";

interface Rollout {
  rollout_id: string;
  status: string;
  principal?: string;
  created_at?: string;
  ended_at?: string;
  model: string;
  alias: string;
  from_version: number;
  to_version: number;
  steps: number;
  step: number;
  percent: number;
  request: {
    steps: { percent: number; hold?: string }[];
    guardrails: { drift: boolean; slos: string[]; check_every: string };
    description?: string | null;
  };
  history: { event: string; at: string; step?: number; percent?: number; reason?: string; breaches?: unknown[] }[];
  abort_requested_by?: string;
  error?: { error?: string; reason?: string };
}

const moving = (r: Rollout) => `${r.model} @${r.alias}: v${r.from_version} → v${r.to_version}`;

export function Rollouts() {
  const loaded = useLoad(
    async () => ((await data(api.GET("/deployments", { params: { query: { limit: 100 } } }))).rollouts ?? []) as Rollout[],
    "rollouts",
  );
  return (
    <Page title="Rollouts" loaded={loaded}>
      {(rollouts) => (
        <Table
          caption={`${rollouts.length} rollouts, newest first`}
          rows={rollouts}
          rowKey={(r) => r.rollout_id}
          empty="No rollout yet: start one with `maestro deploy start` or POST /deployments."
          columns={[
            { key: "id", label: "Rollout", value: (r) => r.rollout_id, render: (r) => <a href={`#/rollouts/${r.rollout_id}`}>{r.rollout_id}</a> },
            { key: "moving", label: "Alias and versions", value: moving },
            { key: "status", label: "Status", value: (r) => r.status },
            { key: "percent", label: "Traffic on the new version", value: (r) => `${r.percent}%` },
            { key: "started", label: "Started (UTC)", value: (r) => when(r.created_at) },
          ]}
        />
      )}
    </Page>
  );
}

export function RolloutDetail({ id, canAbort }: { id: string; canAbort: boolean }) {
  const loaded = useLoad(
    async () => (await data(api.GET("/deployments/{rollout_id}", { params: { path: { rollout_id: id } } }))) as unknown as Rollout,
    `rollout:${id}`,
  );
  const [problem, setProblem] = useState<string | null>(null);
  const running = loaded.data?.status === "RUNNING";
  useRefresh(running, loaded.reload);
  const abort = async () => {
    try {
      await data(api.POST("/deployments/{rollout_id}/abort", { params: { path: { rollout_id: id } } }));
      setProblem(null);
      loaded.reload();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  return (
    <Page title={`Rollout ${id}`} loaded={loaded}>
      {(r) => (
        <>
          <h2>{moving(r)}</h2>
          <p role="status" className={r.status === "COMPLETED" ? "ok" : r.status === "RUNNING" ? undefined : "problem"}>
            {r.status} · {r.percent}% of traffic on v{r.to_version}
            {r.abort_requested_by ? ` · abort asked by ${r.abort_requested_by}` : ""}
          </p>
          <progress value={r.percent} max={100} aria-label="traffic on the new version" />
          {r.error ? <p className="problem">{r.error.error}: {r.error.reason}</p> : null}
          <Problem error={problem} />
          {canAbort && running && !r.abort_requested_by ? (
            <button type="button" onClick={() => void abort()}>
              Abort and roll back
            </button>
          ) : null}
          <Table
            caption="Plan"
            rows={r.request.steps.map((s, n) => ({ ...s, n }))}
            rowKey={(s) => String(s.n)}
            columns={[
              { key: "n", label: "Step", value: (s) => s.n + 1, numeric: true },
              { key: "percent", label: "Traffic", value: (s) => `${s.percent}%` },
              { key: "hold", label: "Hold", value: (s) => s.hold ?? "" },
              { key: "done", label: "Reached", value: (s) => (s.n <= r.step ? "yes" : "not yet") },
            ]}
          />
          <p>
            Guardrails: {r.request.guardrails.drift ? "drift on the new version's monitor" : "no drift check"}
            {r.request.guardrails.slos.length ? `; SLOs ${r.request.guardrails.slos.join(", ")}` : ""}; checked every{" "}
            {r.request.guardrails.check_every}.
          </p>
          <Table
            caption="History"
            rows={r.history}
            rowKey={(h) => `${h.at}:${h.event}:${h.step ?? ""}`}
            empty="Nothing has happened yet."
            columns={[
              { key: "at", label: "When (UTC)", value: (h) => when(h.at) },
              { key: "event", label: "Event", value: (h) => h.event.replace(/_/g, " ") },
              { key: "percent", label: "Traffic", value: (h) => (h.percent === undefined ? "" : `${h.percent}%`) },
              { key: "reason", label: "Why", value: (h) => h.reason ?? "" },
            ]}
          />
        </>
      )}
    </Page>
  );
}

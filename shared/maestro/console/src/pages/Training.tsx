// Training: the tenant's jobs and sweeps, a job (its stage and SageMaker's transitions, the metrics it
// reported, its run and model, and its log lines, refreshed while it runs) and a sweep's trials.
import { useEffect, useState } from "react";
import { api, data } from "../api";
import { Page, Problem, Table, useLoad, useRefresh, when } from "../components";

interface Job {
  job_id: string;
  status: string;
  principal?: string;
  created_at?: string;
  finished_at?: string;
  request: {
    entry_point: string;
    instance_type: string;
    instance_count: number;
    hyperparameters: Record<string, unknown>;
    experiment?: string | null;
  };
  progress: {
    stage: string;
    elapsed_s?: number;
    max_runtime_s?: number;
    transitions?: { status: string; message: string }[];
  };
  metrics: Record<string, number>;
  run_id?: string;
  model?: { model_id?: string; uri?: string; registration?: Registration };
  sweep?: { sweep_id: string; trial: number };
  error?: { error?: string; reason?: string; log_tail?: string[] };
}
interface Registration {
  model: string;
  version?: string;
  passed?: boolean;
  why?: string;
}
interface Trial {
  trial: number;
  status: string;
  hyperparameters: Record<string, unknown>;
  job_id?: string;
  metrics?: Record<string, number>;
}
interface Sweep {
  sweep_id: string;
  status: string;
  created_at?: string;
  request: { objective?: { metric: string; goal?: string } };
  trials: Trial[];
  best?: { trial: number; registration?: Registration };
  error?: { error?: string; reason?: string };
}
interface LogLine {
  host: string;
  timestamp: number;
  message: string;
}

// A job's, a sweep's and a trial's ends (training/store.py FINAL); every other status is still going.
const FINAL = ["SUCCEEDED", "FAILED", "STOPPED"];
const live = (status: string) => !FINAL.includes(status);
const pairs = (values: Record<string, unknown> | undefined) =>
  Object.entries(values ?? {})
    .map(([k, v]) => `${k}=${typeof v === "number" ? Number(v.toPrecision(4)) : String(v)}`)
    .join(", ");

/** Where a model was registered, or why its gate kept it out of the registry. */
function Registered({ registration }: { registration?: Registration }) {
  if (!registration) return null;
  if (!registration.version) return <span>(not registered in {registration.model}: {registration.why ?? "its gate failed"})</span>;
  return (
    <span>
      registered as{" "}
      <a href={`#/models/${encodeURIComponent(registration.model)}`}>
        {registration.model} v{registration.version}
      </a>
    </span>
  );
}

export function Training() {
  const loaded = useLoad(async () => {
    const [jobs, sweeps] = await Promise.all([
      data(api.GET("/training/jobs", { params: { query: { limit: 100 } } })),
      data(api.GET("/training/sweeps", { params: { query: { limit: 100 } } })),
    ]);
    return { jobs: (jobs.jobs ?? []) as Job[], sweeps: (sweeps.sweeps ?? []) as Sweep[] };
  }, "training");
  useRefresh(!!loaded.data?.jobs.some((j) => live(j.status)), loaded.reload);
  return (
    <Page title="Training jobs and sweeps" loaded={loaded}>
      {({ jobs, sweeps }) => (
        <>
          <Table
            caption={`${jobs.length} training jobs, newest first`}
            rows={jobs}
            rowKey={(j) => j.job_id}
            empty="No training job yet: submit one with `maestro train submit` or POST /training/jobs."
            columns={[
              { key: "job", label: "Job", value: (j) => j.job_id, render: (j) => <a href={`#/training/${j.job_id}`}>{j.job_id}</a> },
              { key: "status", label: "Status", value: (j) => j.status },
              { key: "stage", label: "Stage", value: (j) => j.progress.stage },
              { key: "experiment", label: "Experiment", value: (j) => j.request.experiment ?? "" },
              { key: "metrics", label: "Metrics", value: (j) => pairs(j.metrics) },
              { key: "sweep", label: "Sweep", value: (j) => (j.sweep ? `${j.sweep.sweep_id} #${j.sweep.trial}` : "") },
              { key: "created", label: "Submitted (UTC)", value: (j) => when(j.created_at) },
            ]}
          />
          <Table
            caption={`${sweeps.length} sweeps`}
            rows={sweeps}
            rowKey={(s) => s.sweep_id}
            empty="No sweep yet."
            columns={[
              { key: "sweep", label: "Sweep", value: (s) => s.sweep_id, render: (s) => <a href={`#/sweeps/${s.sweep_id}`}>{s.sweep_id}</a> },
              { key: "status", label: "Status", value: (s) => s.status },
              { key: "trials", label: "Trials done", value: (s) => `${s.trials.filter((t) => !live(t.status)).length} of ${s.trials.length}` },
              { key: "best", label: "Best trial", value: (s) => (s.best ? `#${s.best.trial}` : "") },
              { key: "created", label: "Submitted (UTC)", value: (s) => when(s.created_at) },
            ]}
          />
        </>
      )}
    </Page>
  );
}

export function TrainingJob({ id }: { id: string }) {
  const job = useLoad(
    async () => (await data(api.GET("/training/jobs/{job_id}", { params: { path: { job_id: id } } }))) as unknown as Job,
    `training:${id}`,
  );
  const [lines, setLines] = useState<LogLine[]>([]);
  const [token, setToken] = useState<string | null>(null);
  const [logError, setLogError] = useState<string | null>(null);
  useRefresh(!!job.data && live(job.data.status), job.reload);
  const more = async (from: string | null, replace: boolean) => {
    try {
      const page = await data(
        api.GET("/training/jobs/{job_id}/logs", { params: { path: { job_id: id }, query: { limit: 200, token: from } } }),
      );
      const found = (page.lines ?? []) as LogLine[];
      setLines((l) => (replace ? found : [...l, ...found]));
      setToken((page.next_token as string | null) ?? null);
      setLogError(null);
    } catch (e) {
      setLogError((e as Error).message);
    }
  };
  useEffect(() => {
    void more(null, true);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id, job.data?.status]);
  return (
    <Page title={`Training job ${id}`} loaded={job}>
      {(j) => (
        <>
          <p role="status">
            {j.status} · stage {j.progress.stage}
            {j.progress.elapsed_s !== undefined ? ` · ${j.progress.elapsed_s} s of at most ${j.progress.max_runtime_s} s` : ""} · submitted{" "}
            {when(j.created_at)} by {j.principal ?? "?"}
          </p>
          {j.error ? (
            <p className="problem" role="alert">
              {j.error.error}: {j.error.reason}
            </p>
          ) : null}
          <dl>
            <dt>Entry point</dt>
            <dd>{j.request.entry_point}</dd>
            <dt>Instances</dt>
            <dd>
              {j.request.instance_count} × {j.request.instance_type}
            </dd>
            <dt>Hyperparameters</dt>
            <dd>{pairs(j.request.hyperparameters) || "none"}</dd>
            <dt>Run</dt>
            <dd>{j.run_id ? <a href={`#/run/${j.run_id}`}>{j.run_id}</a> : "not yet"}</dd>
            <dt>Model</dt>
            <dd>
              {j.model?.uri ?? "not yet"} <Registered registration={j.model?.registration} />
            </dd>
          </dl>
          <Table
            caption="Metrics reported"
            rows={Object.entries(j.metrics)}
            rowKey={([k]) => k}
            empty="No metric reported yet."
            columns={[
              { key: "metric", label: "Metric", value: ([k]) => k },
              { key: "value", label: "Value", value: ([, v]) => v, numeric: true },
            ]}
          />
          <h2>SageMaker's transitions</h2>
          <ol aria-label="transitions">
            {(j.progress.transitions ?? []).map((t, n) => (
              <li key={n}>
                <strong>{t.status}</strong>: {t.message}
              </li>
            ))}
          </ol>
          <section aria-labelledby="logs">
            <h2 id="logs">Log lines</h2>
            <Problem error={logError} />
            <pre className="logs" tabIndex={0} aria-label="log lines">
              {lines.map((l) => `${l.host} ${when(l.timestamp)} ${l.message}`).join("\n") || "No log line yet."}
            </pre>
            {token ? (
              <button type="button" onClick={() => void more(token, false)}>
                More lines
              </button>
            ) : null}
          </section>
        </>
      )}
    </Page>
  );
}

export function TrainingSweep({ id }: { id: string }) {
  const sweep = useLoad(
    async () => (await data(api.GET("/training/sweeps/{sweep_id}", { params: { path: { sweep_id: id } } }))) as unknown as Sweep,
    `sweep:${id}`,
  );
  useRefresh(!!sweep.data && live(sweep.data.status), sweep.reload);
  return (
    <Page title={`Sweep ${id}`} loaded={sweep}>
      {(s) => (
        <>
          <p role="status">
            {s.status}
            {s.request.objective ? ` · objective ${s.request.objective.goal ?? ""} ${s.request.objective.metric}` : ""}
            {s.best ? ` · best trial #${s.best.trial}` : ""}
            {s.best ? <Registered registration={s.best.registration} /> : null}
          </p>
          <Table
            caption={`${s.trials.length} trials`}
            rows={s.trials}
            rowKey={(t) => String(t.trial)}
            columns={[
              { key: "trial", label: "Trial", value: (t) => t.trial, numeric: true },
              { key: "status", label: "Status", value: (t) => t.status },
              { key: "hps", label: "Hyperparameters", value: (t) => pairs(t.hyperparameters) },
              { key: "metrics", label: "Metrics", value: (t) => pairs(t.metrics) },
              {
                key: "job",
                label: "Job",
                value: (t) => t.job_id ?? "",
                render: (t) => (t.job_id ? <a href={`#/training/${t.job_id}`}>{t.job_id}</a> : ""),
              },
            ]}
          />
        </>
      )}
    </Page>
  );
}

// A/B experiments: the list, and one experiment's analysis: exposures per variant, the sample ratio check,
// each metric's lift with its interval (table and plot), the decision with its reasons, and the experiment's
// history: who started, paused and concluded it, and the model version its win promoted (or what held it).
import { api, data } from "../api";
import { IntervalPlot } from "../charts";
import { Page, Problem, Table, useLoad, when } from "../components";

interface AbExperiment {
  experiment_id: string;
  status: string;
  spec: { name: string; variants?: { key: string; weight: number }[] };
  created_at?: number;
  winner?: string | null;
  history?: HistoryEntry[];
}
interface HistoryEntry {
  event: string;
  at: number;
  by?: string;
  winner?: string | null;
  model?: string;
  version?: string | number;
  alias?: string;
  drift?: { monitor_id: string; columns: string[] };
}
interface Comparison {
  variant: string;
  control?: number;
  treatment?: number;
  relative?: number;
  relative_ci?: [number, number];
  p_value?: number;
  p_adjusted?: number;
  error?: string;
}
interface Analysis {
  variants: Record<string, number>;
  srm: { chi2: number; p_value: number; mismatch: boolean } | null;
  metrics: { name: string; kind: string; role: string; direction?: string; comparisons: Comparison[] }[];
  decision: { action: string; winner: string | null; reasons: string[] } | null;
}

const EVENTS: Record<string, string> = {
  created: "Created",
  start: "Started",
  pause: "Paused",
  resume: "Resumed",
  conclude: "Concluded",
  promoted: "Promoted",
  promotion_held: "Promotion held back",
};

function happened(h: HistoryEntry): string {
  if (h.event === "conclude") return h.winner ? `winner ${h.winner}` : "no winner";
  if (h.event === "promoted") return `alias ${h.alias} → ${h.model} v${h.version}`;
  if (h.event === "promotion_held")
    return `alias ${h.alias} kept: ${h.model} v${h.version} drifts in ${(h.drift?.columns ?? []).join(", ")} (monitor ${h.drift?.monitor_id})`;
  return "";
}

const pct = (v: number | undefined) => (v === undefined || v === null ? "" : `${(100 * v).toFixed(2)}%`);
const num = (v: number | undefined, digits = 4) => (v === undefined || v === null ? "" : v.toPrecision(digits));

export function AbExperiments() {
  const loaded = useLoad(async () => {
    const found = await data(api.GET("/ab/experiments", {}));
    return (found.experiments ?? []) as AbExperiment[];
  }, "ab");
  return (
    <Page title="A/B experiments" loaded={loaded}>
      {(list) => (
        <Table
          caption={`${list.length} experiments`}
          rows={list}
          rowKey={(e) => e.experiment_id}
          empty="No A/B experiment yet."
          columns={[
            {
              key: "name",
              label: "Name",
              value: (e) => e.spec.name,
              render: (e) => <a href={`#/ab/${encodeURIComponent(e.experiment_id)}`}>{e.spec.name}</a>,
            },
            { key: "status", label: "Status", value: (e) => e.status },
            {
              key: "variants",
              label: "Variants (weight)",
              value: (e) => (e.spec.variants ?? []).map((v) => `${v.key} ${v.weight}`).join(", "),
            },
            { key: "winner", label: "Winner", value: (e) => e.winner ?? "" },
            { key: "created", label: "Created (UTC)", value: (e) => when(e.created_at) },
          ]}
        />
      )}
    </Page>
  );
}

export function AbAnalysis({ id, canAnalyze }: { id: string; canAnalyze: boolean }) {
  const path = { experiment_id: id };
  const loaded = useLoad(
    async () => (await data(api.GET("/ab/experiments/{experiment_id}", { params: { path } }))) as unknown as AbExperiment,
    `ab:${id}`,
  );
  const analysis = useLoad(
    async () =>
      canAnalyze ? ((await data(api.GET("/ab/experiments/{experiment_id}/analysis", { params: { path } }))) as unknown as Analysis) : null,
    `ab-analysis:${id}:${canAnalyze}`,
  );
  return (
    <Page title="A/B experiment" loaded={loaded}>
      {(experiment) => (
        <>
          <h2>
            {experiment.spec.name} <small>({experiment.status})</small>
          </h2>
          <Table
            caption="History and promotions"
            rows={experiment.history ?? []}
            rowKey={(h) => `${h.at}:${h.event}`}
            empty="No history is recorded for this experiment."
            columns={[
              { key: "at", label: "When (UTC)", value: (h) => when(h.at) },
              { key: "event", label: "Event", value: (h) => EVENTS[h.event] ?? h.event },
              { key: "by", label: "By", value: (h) => h.by ?? "" },
              { key: "detail", label: "Detail", value: happened },
            ]}
          />
          {canAnalyze ? null : <p>Your roles do not include ab:analyze, so the analysis is not shown.</p>}
          <Problem error={analysis.error} />
          {analysis.data ? <AnalysisView analysis={analysis.data} /> : null}
        </>
      )}
    </Page>
  );
}

function AnalysisView({ analysis }: { analysis: Analysis }) {
  return (
    <>
      <Table
        caption="Exposed units per variant"
        rows={Object.entries(analysis.variants)}
        rowKey={([key]) => key}
        columns={[
          { key: "variant", label: "Variant", value: ([key]) => key },
          { key: "units", label: "Units", value: ([, n]) => n, numeric: true },
        ]}
      />
      {analysis.srm ? (
        <p role="status" className={analysis.srm.mismatch ? "problem" : "ok"}>
          Sample ratio {analysis.srm.mismatch ? "mismatch" : "as designed"}: χ² = {analysis.srm.chi2.toFixed(2)}, p ={" "}
          {analysis.srm.p_value.toPrecision(3)}
        </p>
      ) : null}
      {analysis.decision ? (
        <section aria-labelledby="decision">
          <h2 id="decision">
            Decision: {analysis.decision.action.replace(/_/g, " ")}
            {analysis.decision.winner ? ` (winner ${analysis.decision.winner})` : ""}
          </h2>
          <ul>
            {analysis.decision.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </section>
      ) : null}
      {analysis.metrics.map((metric) => {
        const rows = metric.comparisons;
        const intervals = rows
          .filter((c) => c.relative_ci && c.relative !== undefined)
          .map((c) => ({
            label: c.variant,
            estimate: 100 * (c.relative as number),
            low: 100 * (c.relative_ci as [number, number])[0],
            high: 100 * (c.relative_ci as [number, number])[1],
          }));
        return (
          <section key={metric.name} aria-label={`metric ${metric.name}`}>
            <h2>
              {metric.name} <small>({metric.role}, {metric.kind})</small>
            </h2>
            <Table
              caption={`Lift of ${metric.name} against the control`}
              rows={rows}
              rowKey={(c) => c.variant}
              columns={[
                { key: "variant", label: "Variant", value: (c) => c.variant },
                { key: "control", label: "Control", value: (c) => num(c.control), numeric: true },
                { key: "treatment", label: "Variant value", value: (c) => num(c.treatment), numeric: true },
                { key: "lift", label: "Relative lift", value: (c) => c.error ?? pct(c.relative), numeric: true },
                {
                  key: "ci",
                  label: "95% interval",
                  value: (c) => (c.relative_ci ? `${pct(c.relative_ci[0])} to ${pct(c.relative_ci[1])}` : ""),
                },
                { key: "p", label: "p (adjusted)", value: (c) => num(c.p_adjusted ?? c.p_value, 3), numeric: true },
              ]}
            />
            {intervals.length ? <IntervalPlot title={`Relative lift of ${metric.name}, percent, with intervals`} intervals={intervals} /> : null}
          </section>
        );
      })}
    </>
  );
}

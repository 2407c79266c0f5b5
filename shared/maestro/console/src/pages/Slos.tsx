// SLOs: each objective's status over its window (attainment, error budget remaining, level) and, per
// burn-rate alert, its two windows' burn rates against the alert's threshold, charted.
import { api, data } from "../api";
import { BurnChart } from "../charts";
import { Page, Table, useLoad } from "../components";

interface Slo {
  slo_id: string;
  spec: { name: string; service: string };
}
interface Alert {
  alert: string;
  severity: string;
  burn_rate_threshold: number;
  long_burn_rate: number | null;
  short_burn_rate: number | null;
  firing: boolean;
}
interface Objective {
  objective: string;
  kind: string;
  target: number;
  attainment: number | null;
  budget_remaining: number | null;
  level: string;
  good: number;
  bad: number;
  alerts: Alert[];
}
interface Status {
  slo_id: string;
  name: string;
  service: string;
  objectives: Objective[];
  window: { start: string; end: string };
}

const fixed = (v: number | null, digits = 2) => (v === null || v === undefined ? "no data" : v.toFixed(digits));

export function Slos() {
  const loaded = useLoad(async () => {
    const found = await data(api.GET("/sla/slos", {}));
    const slos = (found.slos ?? []) as Slo[];
    return Promise.all(
      slos.map(
        async (s) =>
          (await data(api.GET("/sla/slos/{slo_id}/status", { params: { path: { slo_id: s.slo_id } } }))) as unknown as Status,
      ),
    );
  }, "slos");
  return (
    <Page title="SLOs" loaded={loaded}>
      {(statuses) =>
        statuses.length ? (
          statuses.map((status) => (
            <section key={status.slo_id} aria-label={`SLO ${status.name}`}>
              <h2>
                {status.name} <small>(service {status.service})</small>
              </h2>
              <Table
                caption={`Objectives over ${status.window.start.slice(0, 16)} to ${status.window.end.slice(0, 16)} (UTC)`}
                rows={status.objectives}
                rowKey={(o) => o.objective}
                columns={[
                  { key: "objective", label: "Objective", value: (o) => o.objective },
                  { key: "target", label: "Target %", value: (o) => o.target, numeric: true },
                  { key: "attainment", label: "Attained %", value: (o) => fixed(o.attainment, 3), numeric: true },
                  { key: "budget", label: "Error budget left %", value: (o) => fixed(o.budget_remaining, 1), numeric: true },
                  { key: "level", label: "Level", value: (o) => o.level },
                  { key: "firing", label: "Alerts firing", value: (o) => o.alerts.filter((a) => a.firing).map((a) => a.alert).join(", ") },
                ]}
              />
              {status.objectives.map((o) =>
                o.alerts.map((a) => (
                  <figure key={`${o.objective}:${a.alert}`}>
                    <BurnChart
                      title={`${o.objective}: burn rates of alert ${a.alert} against ${a.burn_rate_threshold}×`}
                      threshold={a.burn_rate_threshold}
                      rates={[
                        [`long ${a.alert.split("/")[0]}`, a.long_burn_rate],
                        [`short ${a.alert.split("/")[1]?.split("@")[0] ?? ""}`, a.short_burn_rate],
                      ]}
                    />
                    <figcaption>
                      {o.objective} · {a.alert} ({a.severity}): {a.firing ? "FIRING" : "quiet"}; burn {fixed(a.long_burn_rate)} /{" "}
                      {fixed(a.short_burn_rate)}
                    </figcaption>
                  </figure>
                )),
              )}
            </section>
          ))
        ) : (
          <p>No SLO yet.</p>
        )
      }
    </Page>
  );
}

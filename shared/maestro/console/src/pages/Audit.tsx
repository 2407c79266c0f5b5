// The audit trail: search it, and verify its chain (a break is shown where it is).
import { useState } from "react";
import { api, data } from "../api";
import { Page, Problem, Table, useLoad, when } from "../components";

interface Record {
  seq?: number;
  occurred_at?: string;
  principal?: string;
  action?: string;
  resource?: string;
  outcome?: string;
}

export function Audit({ canVerify }: { canVerify: boolean }) {
  const [action, setAction] = useState("");
  const [applied, setApplied] = useState("");
  const [verdict, setVerdict] = useState<{ valid?: boolean; [k: string]: unknown } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const loaded = useLoad(async () => {
    const found = await data(api.GET("/audit/events", { params: { query: { action: applied || undefined, limit: 200 } } }));
    return (found.records ?? []) as Record[];
  }, `audit:${applied}`);
  const verify = async () => {
    setProblem(null);
    setVerdict(null);
    try {
      setVerdict((await data(api.GET("/audit/verify", {}))) as { valid?: boolean });
    } catch (error) {
      setProblem((error as Error).message);
    }
  };
  return (
    <Page title="Audit trail" loaded={loaded}>
      {(records) => (
        <>
          <form
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              setApplied(action.trim());
            }}
          >
            <label>
              Action <input value={action} placeholder="registry:RegisteredModelCreated" onChange={(e) => setAction(e.target.value)} />
            </label>{" "}
            <button type="submit">Search</button>
          </form>
          {canVerify ? (
            <p>
              <button type="button" onClick={verify}>
                Verify the trail
              </button>
            </p>
          ) : null}
          <Problem error={problem} />
          {verdict ? (
            <div role="status" className={verdict.valid ? "ok" : "problem"}>
              <strong>{verdict.valid ? "The chain verifies" : "The chain is broken"}</strong>
              <pre>{JSON.stringify(verdict, null, 1)}</pre>
            </div>
          ) : null}
          <Table
            caption={`${records.length} records`}
            rows={records}
            rowKey={(r) => String(r.seq)}
            columns={[
              { key: "seq", label: "#", value: (r) => r.seq, numeric: true },
              { key: "time", label: "Time (UTC)", value: (r) => when(r.occurred_at) },
              { key: "principal", label: "Who", value: (r) => r.principal },
              { key: "action", label: "Action", value: (r) => r.action },
              { key: "resource", label: "Resource", value: (r) => r.resource },
              { key: "outcome", label: "Outcome", value: (r) => r.outcome },
            ]}
          />
        </>
      )}
    </Page>
  );
}

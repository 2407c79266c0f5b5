// Tenants, for the platform's operators: every tenant, and one tenant's quotas (used against the limit), its
// usage per day for the last 30 days, and its exports. A tenant's admins see their own tenant's page.
import { api, data } from "../api";
import { Page, Table, useLoad, when } from "../components";

interface TenantRow {
  tenant_id: string;
  name: string;
  plan: string;
  status: string;
  created_at?: string;
}
interface Tenant extends TenantRow {
  status_reason?: string | null;
  quotas: Record<string, { limit: number | null; used: number; resets_at?: string }>;
}
interface UsageDay {
  day: string;
  requests: { total: number };
  errors: { total: number };
  compute_seconds: { total: number };
  rows_explained: number;
  storage_bytes: number | null;
}
interface Export {
  export_id: string;
  status: string;
  requested_at?: string;
  totals?: { items: number; objects: number; bytes: number };
}

export function Tenants() {
  const loaded = useLoad(async () => {
    const found = await data(api.GET("/tenants", { params: { query: { limit: 100 } } }));
    return (found.tenants ?? []) as TenantRow[];
  }, "tenants");
  return (
    <Page title="Tenants" loaded={loaded}>
      {(tenants) => (
        <Table
          caption={`${tenants.length} tenants`}
          rows={tenants}
          rowKey={(t) => t.tenant_id}
          columns={[
            {
              key: "id",
              label: "Tenant",
              value: (t) => t.tenant_id,
              render: (t) => <a href={`#/tenants/${encodeURIComponent(t.tenant_id)}`}>{t.tenant_id}</a>,
            },
            { key: "name", label: "Name", value: (t) => t.name },
            { key: "plan", label: "Plan", value: (t) => t.plan },
            { key: "status", label: "Status", value: (t) => t.status },
            { key: "created", label: "Created (UTC)", value: (t) => when(t.created_at) },
          ]}
        />
      )}
    </Page>
  );
}

export function TenantDetail({ id, operator }: { id: string; operator: boolean }) {
  const loaded = useLoad(async () => {
    const path = { tenant_id: id };
    const [tenant, usage, exports] = await Promise.all([
      data(api.GET("/tenants/{tenant_id}", { params: { path } })),
      data(api.GET("/tenants/{tenant_id}/usage", { params: { path } })).catch(() => ({ days: [] })),
      operator
        ? data(api.GET("/tenants/{tenant_id}/exports", { params: { path, query: { limit: 20 } } }))
        : Promise.resolve({ exports: [] }),
    ]);
    return {
      tenant: tenant as unknown as Tenant,
      days: ((usage as { days?: UsageDay[] }).days ?? []) as UsageDay[],
      exports: ((exports as { exports?: Export[] }).exports ?? []) as Export[],
    };
  }, `tenant:${id}`);
  return (
    <Page title={`Tenant ${id}`} loaded={loaded}>
      {({ tenant, days, exports }) => (
        <>
          <p>
            {tenant.name} · plan {tenant.plan} · <strong>{tenant.status}</strong>
            {tenant.status_reason ? ` (${tenant.status_reason})` : ""}
          </p>
          <Table
            caption="Quotas"
            rows={Object.entries(tenant.quotas)}
            rowKey={([name]) => name}
            columns={[
              { key: "quota", label: "Quota", value: ([name]) => name },
              { key: "used", label: "Used", value: ([, q]) => q.used, numeric: true },
              { key: "limit", label: "Limit", value: ([, q]) => (q.limit === null ? "unlimited" : q.limit), numeric: true },
              { key: "resets", label: "Resets (UTC)", value: ([, q]) => when(q.resets_at) },
            ]}
          />
          <Table
            caption="Usage per day (UTC), last 30 days"
            rows={days}
            rowKey={(d) => d.day}
            empty="No usage recorded yet."
            columns={[
              { key: "day", label: "Day", value: (d) => d.day },
              { key: "requests", label: "Requests", value: (d) => d.requests.total, numeric: true },
              { key: "errors", label: "Errors", value: (d) => d.errors.total, numeric: true },
              { key: "compute", label: "Compute s", value: (d) => Number(d.compute_seconds.total.toFixed(1)), numeric: true },
              { key: "rows", label: "Rows explained", value: (d) => d.rows_explained, numeric: true },
              { key: "storage", label: "Storage bytes", value: (d) => d.storage_bytes ?? "", numeric: true },
            ]}
          />
          {operator ? (
            <Table
              caption="Exports"
              rows={exports}
              rowKey={(e) => e.export_id}
              empty="No export yet: maestro backup export <tenant>."
              columns={[
                { key: "id", label: "Export", value: (e) => e.export_id },
                { key: "status", label: "Status", value: (e) => e.status },
                { key: "items", label: "Items", value: (e) => e.totals?.items ?? "", numeric: true },
                { key: "objects", label: "Objects", value: (e) => e.totals?.objects ?? "", numeric: true },
                { key: "when", label: "Requested (UTC)", value: (e) => when(e.requested_at) },
              ]}
            />
          ) : null}
        </>
      )}
    </Page>
  );
}

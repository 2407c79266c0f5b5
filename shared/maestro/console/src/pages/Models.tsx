// Registered models: the list, and one model's versions, aliases, stages, tags and where its files are.
import { api, data } from "../api";
import { Page, Table, useLoad, when } from "../components";
import type { ModelVersion, RegisteredModel } from "../mlflow";

const ML = "/api/2.0/mlflow";

export function Models() {
  const loaded = useLoad(async () => {
    const found = await data(api.GET(`${ML}/registered-models/search`, { params: { query: { max_results: 1000 } } }));
    return (found.registered_models ?? []) as RegisteredModel[];
  }, "models");
  return (
    <Page title="Registered models" loaded={loaded}>
      {(models) => (
        <Table
          caption={`${models.length} registered models`}
          rows={models}
          rowKey={(m) => m.name}
          empty="No registered model yet: register one with the mlflow client."
          columns={[
            { key: "name", label: "Name", value: (m) => m.name, render: (m) => <a href={`#/models/${encodeURIComponent(m.name)}`}>{m.name}</a> },
            { key: "latest", label: "Latest version", value: (m) => Math.max(0, ...(m.latest_versions ?? []).map((v) => Number(v.version))), numeric: true },
            { key: "aliases", label: "Aliases", value: (m) => (m.aliases ?? []).map((a) => `${a.alias} → v${a.version}`).join(", ") },
            { key: "updated", label: "Updated (UTC)", value: (m) => when(m.last_updated_timestamp) },
          ]}
        />
      )}
    </Page>
  );
}

export function Model({ name }: { name: string }) {
  const loaded = useLoad(async () => {
    const [model, versions] = await Promise.all([
      data(api.GET(`${ML}/registered-models/get`, { params: { query: { name } } })),
      data(api.GET(`${ML}/model-versions/search`, { params: { query: { filter: `name='${name.replace(/'/g, "\\'")}'`, max_results: 1000 } } })),
    ]);
    return {
      model: model.registered_model as RegisteredModel,
      versions: (versions.model_versions ?? []) as ModelVersion[],
    };
  }, `model:${name}`);
  return (
    <Page title={`Model ${name}`} loaded={loaded}>
      {({ model, versions }) => (
        <>
          {model.description ? <p>{model.description}</p> : null}
          <h2>Aliases</h2>
          <ul aria-label="aliases">
            {(model.aliases ?? []).map((a) => (
              <li key={a.alias}>
                <strong>{a.alias}</strong> → version {a.version}
              </li>
            ))}
            {(model.aliases ?? []).length ? null : <li>No alias points at a version.</li>}
          </ul>
          <h2>Tags</h2>
          <dl>
            {(model.tags ?? []).map((t) => (
              <div key={t.key}>
                <dt>{t.key}</dt>
                <dd>{t.value}</dd>
              </div>
            ))}
          </dl>
          <Table
            caption={`${versions.length} versions`}
            rows={versions}
            rowKey={(v) => v.version}
            columns={[
              { key: "version", label: "Version", value: (v) => Number(v.version), numeric: true },
              { key: "stage", label: "Stage", value: (v) => v.current_stage ?? "None" },
              { key: "aliases", label: "Aliases", value: (v) => (v.aliases ?? []).join(", ") },
              { key: "status", label: "Status", value: (v) => v.status ?? "" },
              { key: "run", label: "Run", value: (v) => v.run_id ?? "" },
              { key: "source", label: "Source (download)", value: (v) => v.source ?? "" },
              { key: "created", label: "Created (UTC)", value: (v) => when(v.creation_timestamp) },
            ]}
          />
        </>
      )}
    </Page>
  );
}

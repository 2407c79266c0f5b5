// Registered models: the list, and one model's versions, aliases, stages and tags, and for any version its
// lineage (experiment, run, datasets, training job, logged model, aliases) drawn as a graph and its files,
// each with a download link.
import { useState } from "react";
import { api, data } from "../api";
import { Page, Problem, Table, useLoad, when } from "../components";
import { Graph, type GraphEdge, type GraphNode } from "../graph";
import { ML, type ModelVersion, type RegisteredModel } from "../mlflow";


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
          <Lineage name={name} versions={versions} aliases={model.aliases ?? []} />
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

interface LineageAnswer {
  model_version: ModelVersion;
  logged_model: { info: { model_id: string; name?: string; artifact_uri?: string } } | null;
  run: {
    info: { run_id: string; run_name?: string };
    datasets: { name: string; digest: string; source_type?: string; source?: string }[];
  } | null;
  experiment: { experiment_id: string; name: string } | null;
}
interface FileLink {
  path: string;
  size?: number;
  url: string;
}

const PROXIED = /^mlflow-artifacts:(\/\/[^/]*)?\/?/;

/** An artifact path keeps its slashes (the route is greedy); each segment is encoded. */
const greedy = (pathname: string, params: Record<string, unknown>) =>
  pathname.replace("{artifact_path}", String(params.artifact_path).split("/").map(encodeURIComponent).join("/"));

/** Every file under `root` in the proxied artifact store (two levels deep, at most 100), with a link each. */
async function files(root: string): Promise<FileLink[]> {
  const found: FileLink[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const listed = await data(api.GET("/api/2.0/mlflow-artifacts/artifacts", { params: { query: { path: dir } } }));
    for (const f of (listed.files ?? []) as { path: string; is_dir: boolean; file_size?: number }[]) {
      const path = `${dir}/${f.path}`;
      if (f.is_dir) {
        if (depth < 2) await walk(path, depth + 1);
      } else if (found.length < 100) {
        const signed = await data(
          api.GET("/api/2.0/mlflow-artifacts/presigned/{artifact_path}", {
            params: { path: { artifact_path: path } },
            pathSerializer: greedy,
          }),
        );
        found.push({ path: path.slice(root.length + 1), size: f.file_size, url: signed.url as string });
      }
    }
  };
  await walk(root, 0);
  return found;
}

function Lineage({ name, versions, aliases }: { name: string; versions: ModelVersion[]; aliases: { alias: string; version: string }[] }) {
  const newest = String(Math.max(0, ...versions.map((v) => Number(v.version))));
  const [version, setVersion] = useState(newest);
  const loaded = useLoad(async () => {
    const lineage = (await data(api.GET(`${ML}/maestro/lineage`, { params: { query: { name, version } } }))) as unknown as LineageAnswer;
    const uri = (await data(api.GET(`${ML}/model-versions/get-download-uri`, { params: { query: { name, version } } })))
      .artifact_uri as string;
    const links = PROXIED.test(uri) ? await files(uri.replace(PROXIED, "").replace(/\/$/, "")) : null;
    return { lineage, uri, links };
  }, `lineage:${name}:${version}`);
  if (!versions.length) return null;
  return (
    <section aria-labelledby="lineage">
      <h2 id="lineage">Lineage and files</h2>
      <label>
        Version{" "}
        <select value={version} onChange={(e) => setVersion(e.target.value)}>
          {versions.map((v) => (
            <option key={v.version} value={v.version}>
              {v.version}
            </option>
          ))}
        </select>
      </label>
      <Problem error={loaded.error} />
      {loaded.data ? <LineageGraph answer={loaded.data.lineage} aliases={aliases.filter((a) => a.version === version)} /> : null}
      {loaded.data && !loaded.data.links ? (
        <p>
          This version's files are at <code>{loaded.data.uri}</code>, outside the platform's artifact store.
        </p>
      ) : null}
      {loaded.data?.links ? (
        <Table
          caption={`Files of version ${version} (${loaded.data.uri})`}
          rows={loaded.data.links}
          rowKey={(f) => f.path}
          empty="The version's directory holds no file."
          columns={[
            { key: "path", label: "File", value: (f) => f.path, render: (f) => <a href={f.url} download={f.path.split("/").pop()}>{f.path}</a> },
            { key: "size", label: "Bytes", value: (f) => f.size, numeric: true },
          ]}
        />
      ) : null}
    </section>
  );
}

function LineageGraph({ answer, aliases }: { answer: LineageAnswer; aliases: { alias: string }[] }) {
  const v = answer.model_version;
  const versionId = `version:${v.version}`;
  const nodes: GraphNode[] = [{ id: versionId, column: 3, kind: "model version", label: `${v.name} v${v.version}` }];
  const edges: GraphEdge[] = [];
  const job = (v.tags ?? []).find((t) => t.key === "maestro.training.job_id")?.value;
  if (answer.run) {
    const run = answer.run.info;
    nodes.push({ id: "run", column: 1, kind: "run", label: run.run_name ?? run.run_id, href: `#/run/${run.run_id}` });
    answer.run.datasets.forEach((d, n) => {
      nodes.push({ id: `dataset:${n}`, column: 0, kind: `dataset ${d.digest}`, label: d.name });
      edges.push({ from: `dataset:${n}`, to: "run", label: "was used by run" });
    });
  }
  if (answer.experiment) {
    const e = answer.experiment;
    nodes.push({ id: "experiment", column: 0, kind: "experiment", label: e.name, href: `#/runs/${e.experiment_id}` });
    if (answer.run) edges.push({ from: "experiment", to: "run", label: "holds run" });
  }
  if (job) {
    nodes.push({ id: "job", column: 0, kind: "training job", label: job, href: `#/training/${job}` });
    if (answer.run) edges.push({ from: "job", to: "run", label: "ran" });
  }
  if (answer.logged_model) {
    const m = answer.logged_model.info;
    nodes.push({ id: "logged", column: 2, kind: `logged model ${m.model_id}`, label: m.name ?? m.model_id });
    if (answer.run) edges.push({ from: "run", to: "logged", label: "logged the model" });
    edges.push({ from: "logged", to: versionId, label: "was registered as" });
  } else if (answer.run) {
    edges.push({ from: "run", to: versionId, label: "was registered as" });
  }
  aliases.forEach((a) => {
    nodes.push({ id: `alias:${a.alias}`, column: 4, kind: "alias", label: a.alias });
    edges.push({ from: versionId, to: `alias:${a.alias}`, label: "carries alias" });
  });
  return <Graph title={`Lineage of ${v.name} version ${v.version}`} nodes={nodes} edges={edges} />;
}

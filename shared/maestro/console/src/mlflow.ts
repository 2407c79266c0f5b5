// MLflow's shapes as the registry answers them (its OpenAPI document types them as free-form objects).

/** Where the registry answers MLflow's REST API. */
export const ML = "/api/2.0/mlflow";
export interface Tag {
  key: string;
  value: string;
}
export interface ModelVersion {
  name: string;
  version: string;
  current_stage?: string;
  status?: string;
  source?: string;
  run_id?: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  aliases?: string[];
  tags?: Tag[];
  description?: string;
}
export interface RegisteredModel {
  name: string;
  creation_timestamp?: number;
  last_updated_timestamp?: number;
  description?: string;
  latest_versions?: ModelVersion[];
  aliases?: { alias: string; version: string }[];
  tags?: Tag[];
}
export interface Metric {
  key: string;
  value: number;
  step?: number;
  timestamp?: number;
}
export interface Run {
  info: {
    run_id: string;
    run_name?: string;
    experiment_id: string;
    status?: string;
    start_time?: number;
    end_time?: number;
    user_id?: string;
  };
  data: { metrics?: Metric[]; params?: Tag[]; tags?: Tag[] };
}
export interface Experiment {
  experiment_id: string;
  name: string;
  lifecycle_stage?: string;
  last_update_time?: number;
}

export const byKey = (pairs: Tag[] | Metric[] | undefined): Record<string, string | number> =>
  Object.fromEntries((pairs ?? []).map((p) => [p.key, p.value]));

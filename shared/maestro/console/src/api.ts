// The platform's API as a typed client generated from its own OpenAPI document (schema.d.ts, made by
// `npm run types`): a route or body that changes breaks `tsc`, not the page.
import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { session } from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
  ) {
    super(message);
  }
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ response }) {
    if (response.status === 401) session.signOut("Your session ended: sign in again.");
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin });
api.use(auth);

/** The error a reply carries, as a sentence: Maestro's {error: {message, fields}} or MLflow's {message}. */
export function explain(status: number, body: unknown): string {
  const error = (body as { error?: { message?: string; fields?: { field: string; reason: string }[] } })?.error;
  if (error?.fields?.length) return error.fields.map((f) => `${f.field}: ${f.reason}`).join("; ");
  const message = error?.message ?? (body as { message?: string })?.message;
  if (status === 403) return `You may not do this${message ? `: ${message}` : ""}.`;
  return message ?? `The platform answered ${status}.`;
}

/** The data of a typed call, or an ApiError that says what went wrong. */
export async function data<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data: found, error, response } = await call;
  if (!response.ok || found === undefined) {
    throw new ApiError(response.status, explain(response.status, error), error);
  }
  return found;
}

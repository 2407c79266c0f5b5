// Who is signed in: a bearer token (kept for this browser tab only) and what /whoami says they may do. In
// local mode the platform mints the token; in AWS the configured OIDC issuer does (Cognito's hosted UI,
// authorization code with PKCE).

export interface Identity {
  principal: string;
  tenant: string;
  roles: string[];
  permissions: string[];
}

export interface ConsoleConfig {
  mode: "local" | "oidc";
  authorize_url?: string;
  token_url?: string;
  client_id?: string;
  scopes?: string;
}

type Listener = () => void;
const KEY = "maestro.console.token";
const listeners = new Set<Listener>();
let notice: string | null = null;

export const session = {
  token: (): string | null => sessionStorage.getItem(KEY),
  notice: (): string | null => notice,
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
    notice = null;
    listeners.forEach((l) => l());
  },
  signOut(why: string | null = null): void {
    sessionStorage.removeItem(KEY);
    notice = why;
    listeners.forEach((l) => l());
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export async function loadConfig(): Promise<ConsoleConfig> {
  const reply = await fetch(`${import.meta.env.BASE_URL}config.json`);
  return reply.ok ? ((await reply.json()) as ConsoleConfig) : { mode: "local" };
}

/** Local mode: the local platform mints a token for the tenant and roles chosen. */
export async function localSignIn(tenant: string, roles: string[], user: string): Promise<void> {
  const query = new URLSearchParams({ tenant, roles: roles.join(","), subject: user });
  const reply = await fetch(`/_local/console/token?${query}`, { method: "POST" });
  const body = (await reply.json()) as { token?: string; message?: string };
  if (!reply.ok || !body.token) throw new Error(body.message ?? `sign-in failed (${reply.status})`);
  session.signIn(body.token);
}

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const text = String.fromCharCode(...new Uint8Array(bytes));
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const REDIRECT = () => `${window.location.origin}${import.meta.env.BASE_URL}`;

/** OIDC: to the issuer's sign-in page with a PKCE challenge; it comes back with ?code=. */
export async function oidcSignIn(config: ConsoleConfig): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem("maestro.console.verifier", verifier);
  const query = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id ?? "",
    redirect_uri: REDIRECT(),
    scope: config.scopes ?? "openid email profile",
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  window.location.assign(`${config.authorize_url}?${query}`);
}

/** OIDC: the code the issuer sent back, exchanged for the ID token the API accepts. */
export async function completeOidcSignIn(config: ConsoleConfig): Promise<boolean> {
  const code = new URLSearchParams(window.location.search).get("code");
  const verifier = sessionStorage.getItem("maestro.console.verifier");
  if (!code || !verifier || !config.token_url) return false;
  const reply = await fetch(config.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: config.client_id ?? "",
      code,
      redirect_uri: REDIRECT(),
      code_verifier: verifier,
    }),
  });
  sessionStorage.removeItem("maestro.console.verifier");
  window.history.replaceState(null, "", REDIRECT());
  const body = (await reply.json()) as { id_token?: string };
  if (!reply.ok || !body.id_token) throw new Error("the sign-in could not be completed");
  session.signIn(body.id_token);
  return true;
}

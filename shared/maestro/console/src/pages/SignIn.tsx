// Sign-in: locally, a token the local platform mints for the tenant and roles chosen; in AWS, the
// configured OIDC issuer's page (Cognito's hosted UI) with PKCE.
import { useState } from "react";
import { type ConsoleConfig, localSignIn, oidcSignIn, session } from "../session";

const ROLES = ["viewer", "data-scientist", "ml-engineer", "auditor", "tenant-admin", "admin"];

export function SignIn({ config }: { config: ConsoleConfig }) {
  const [tenant, setTenant] = useState("default");
  const [user, setUser] = useState("console-user");
  const [roles, setRoles] = useState<string[]>(["ml-engineer", "auditor"]);
  const [problem, setProblem] = useState<string | null>(session.notice());
  const [busy, setBusy] = useState(false);
  if (config.mode === "oidc") {
    return (
      <section aria-labelledby="page-title" className="signin">
        <h1 id="page-title">Maestro ML</h1>
        {problem ? <p role="alert" className="problem">{problem}</p> : null}
        <button type="button" onClick={() => oidcSignIn(config)}>
          Sign in
        </button>
      </section>
    );
  }
  return (
    <section aria-labelledby="page-title" className="signin">
      <h1 id="page-title">Maestro ML (local)</h1>
      <p>The local platform signs you in as anyone: choose a tenant and roles.</p>
      {problem ? <p role="alert" className="problem">{problem}</p> : null}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setProblem(null);
          try {
            await localSignIn(tenant.trim(), roles, user.trim());
          } catch (error) {
            setProblem((error as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          Tenant <input name="tenant" required value={tenant} onChange={(e) => setTenant(e.target.value)} />
        </label>
        <label>
          User <input name="user" required value={user} onChange={(e) => setUser(e.target.value)} />
        </label>
        <fieldset>
          <legend>Roles</legend>
          {ROLES.map((role) => (
            <label key={role} className="inline">
              <input
                type="checkbox"
                name="roles"
                value={role}
                checked={roles.includes(role)}
                onChange={() => setRoles((r) => (r.includes(role) ? r.filter((x) => x !== role) : [...r, role]))}
              />{" "}
              {role}
            </label>
          ))}
        </fieldset>
        <button type="submit" disabled={busy || !roles.length}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </section>
  );
}

// The console's frame: who is signed in (from /whoami), the pages they may open, and the page the URL's
// hash names. What the caller may not do is not offered; a 403 that happens anyway is shown, not thrown.
import { useEffect, useState, useSyncExternalStore } from "react";
import { api, data } from "./api";
import { Problem } from "./components";
import { Audit } from "./pages/Audit";
import { AbAnalysis, AbExperiments } from "./pages/Experiments";
import { Explanation, Explanations } from "./pages/Explanations";
import { Slos } from "./pages/Slos";
import { TenantDetail, Tenants } from "./pages/Tenants";
import { Model, Models } from "./pages/Models";
import { MonitorDetail, Monitors } from "./pages/Monitors";
import { RolloutDetail, Rollouts } from "./pages/Rollouts";
import { Training, TrainingJob, TrainingSweep } from "./pages/Training";
import { RunDetail } from "./pages/RunDetail";
import { Runs } from "./pages/Runs";
import { SignIn } from "./pages/SignIn";
import { type ConsoleConfig, completeOidcSignIn, type Identity, loadConfig, session } from "./session";

interface PageLink {
  path: string;
  label: string;
  needs: string;
}

const PAGES: PageLink[] = [
  { path: "models", label: "Models", needs: "registry:read" },
  { path: "runs", label: "Experiments", needs: "experiment:read" },
  { path: "ab", label: "A/B tests", needs: "ab:read" },
  { path: "explanations", label: "Explanations", needs: "explain:read" },
  { path: "training", label: "Training", needs: "training:read" },
  { path: "monitors", label: "Monitors", needs: "monitoring:read" },
  { path: "rollouts", label: "Rollouts", needs: "deploy:read" },
  { path: "slos", label: "SLOs", needs: "sla:read" },
  { path: "audit", label: "Audit", needs: "audit:read" },
  { path: "tenants", label: "Tenants", needs: "platform:admin" },
  { path: "tenant", label: "Tenant", needs: "tenant:read" },
];

/** Pages reached from another page's links, not the navigation, and the permission each needs. */
const HIDDEN: Record<string, string> = { run: "experiment:read", sweeps: "training:read" };

function useHash(): string[] {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const changed = () => setHash(window.location.hash);
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
}

export function App() {
  const token = useSyncExternalStore(session.subscribe, session.token);
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [identity, setIdentity] = useState<Identity | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const route = useHash();

  useEffect(() => {
    loadConfig()
      .then(async (c) => {
        if (c.mode === "oidc") await completeOidcSignIn(c);
        setConfig(c);
      })
      .catch((e: Error) => setProblem(e.message));
  }, []);
  useEffect(() => {
    setIdentity(null);
    if (!token) return;
    data(api.GET("/whoami", {})).then(
      (who) => setIdentity(who as Identity),
      (e: Error) => setProblem(e.message),
    );
  }, [token]);

  if (!config) return <Problem error={problem} />;
  if (!token) return <SignIn config={config} />;
  if (!identity) return problem ? <Problem error={problem} /> : <p aria-live="polite">Signing in…</p>;
  const may = (permission: string) => identity.permissions.includes(permission);
  // operators have every tenant's page; a tenant's own readers have theirs
  const pages = PAGES.filter((p) => may(p.needs) && !(p.path === "tenant" && may("platform:admin")));
  const [page = pages[0]?.path ?? "", arg = null] = route;
  return (
    <>
      <header>
        <a className="brand" href="#/">
          Maestro ML
        </a>
        <nav aria-label="pages">
          {pages.map((p) => (
            <a key={p.path} href={`#/${p.path}`} aria-current={p.path === page ? "page" : undefined}>
              {p.label}
            </a>
          ))}
        </nav>
        <span className="who" aria-label="signed in as">
          {identity.principal} · {identity.tenant} · {identity.roles.join(", ")}
        </span>
        <button type="button" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main>
        {page === "models" && arg ? <Model name={arg} /> : null}
        {page === "models" && !arg ? <Models /> : null}
        {page === "runs" ? <Runs experiment={arg} /> : null}
        {page === "run" && arg && may("experiment:read") ? <RunDetail runId={arg} /> : null}
        {page === "ab" && arg ? <AbAnalysis id={arg} canAnalyze={may("ab:analyze")} /> : null}
        {page === "ab" && !arg ? <AbExperiments /> : null}
        {page === "explanations" && arg ? <Explanation id={arg} /> : null}
        {page === "explanations" && !arg ? <Explanations /> : null}
        {page === "training" && arg ? <TrainingJob id={arg} /> : null}
        {page === "training" && !arg ? <Training /> : null}
        {page === "sweeps" && arg && may("training:read") ? <TrainingSweep id={arg} /> : null}
        {page === "monitors" && arg ? <MonitorDetail id={arg} /> : null}
        {page === "monitors" && !arg ? <Monitors /> : null}
        {page === "rollouts" && arg ? <RolloutDetail id={arg} canAbort={may("deploy:abort")} /> : null}
        {page === "rollouts" && !arg ? <Rollouts /> : null}
        {page === "slos" ? <Slos /> : null}
        {page === "audit" ? <Audit canVerify={may("audit:verify")} /> : null}
        {page === "tenants" && arg ? <TenantDetail id={arg} operator /> : null}
        {page === "tenants" && !arg ? <Tenants /> : null}
        {page === "tenant" ? <TenantDetail id={identity.tenant} operator={false} /> : null}
        {!pages.some((p) => p.path === page) && !(HIDDEN[page] && may(HIDDEN[page])) ? (
          <p role="alert" className="problem">
            {pages.length ? "There is no such page, or your roles do not open it." : "Your roles open no page here."}
          </p>
        ) : null}
      </main>
    </>
  );
}

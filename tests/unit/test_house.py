"""The house rules the code keeps as it grows (STYLE.md, issue 15), read from the source with `ast`: small
modules, AWS calls only in store and gateway modules, no capability reaching into another's stores, core
never importing a capability, no import cycle; and every installed capability plugs into tenancy."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from maestro.core import capabilities
from maestro.core.settings import Settings
from maestro.tenants.purge import targets

ROOT = Path(__file__).resolve().parents[2] / "shared" / "maestro"
MAX_LINES = 450
AWS_CLIENTS = {"client", "tenant_client"}
CAPABILITIES = {"ab", "audit", "explain", "insights", "monitoring", "registry", "sla", "tenants", "platform"}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported(name: str, path: Path, top_level_only: bool) -> Iterator[str]:
    """The maestro modules `name` imports (a `from package import module` counts as the module)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    known = {m for m, _ in modules()}
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("maestro."))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, base]).strip(".")
            if not base.startswith("maestro"):
                continue
            yield base
            yield from (f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)


def test_no_module_outgrows_the_limit() -> None:
    long = {name: n for name, path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these modules (over {MAX_LINES} lines): {long}"


def _is_store_or_gateway(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return "store" in last or "gateway" in last or ".stores" in name


def test_aws_calls_live_only_in_store_and_gateway_modules() -> None:
    """core.aws makes the clients; local/ is the emulator that stands in for AWS (and provisions it)."""
    calls = []
    for name, path in modules():
        if name == "maestro.core.aws" or name.startswith("maestro.local") or _is_store_or_gateway(name):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in AWS_CLIENTS:
                calls.append(f"{name}:{node.lineno}")
    assert calls == [], f"AWS calls outside store/gateway modules: {calls}"


def test_no_capability_imports_another_capability_s_stores() -> None:
    reaches = []
    for name, path in modules():
        owner = name.split(".")[1] if name.count(".") else ""
        for target in imported(name, path, top_level_only=False):
            other = target.split(".")[1] if target.count(".") else ""
            if other in CAPABILITIES and other != owner and _is_store_or_gateway(target):
                reaches.append(f"{name} -> {target}")
    assert reaches == [], f"use the other capability's interface module instead: {reaches}"


def test_core_never_imports_a_capability() -> None:
    """Capabilities plug into core (core.capabilities finds them by name); core knows none of them."""
    reaches = [
        f"{name} -> {target}"
        for name, path in modules()
        if name.startswith("maestro.core")
        for target in imported(name, path, top_level_only=False)
        if target.split(".")[1:2] and target.split(".")[1] in CAPABILITIES
    ]
    assert reaches == []


def test_no_import_cycle() -> None:
    graph = {name: set(imported(name, path, top_level_only=True)) - {name} for name, path in modules()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt.startswith(node + ".") or node.startswith(nxt + "."):
                continue  # a package and its own modules
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == [], f"import cycles: {cycles}"


@pytest.mark.parametrize("capability", capabilities.installed(), ids=lambda c: c.name)
def test_each_installed_capability_names_stores_the_settings_hold(
    capability: capabilities.Capability,
) -> None:
    settings = Settings()
    for field in capability.tables + capability.buckets:
        assert field in Settings.model_fields, f"{capability.name}: no setting {field!r}"
    assert all(s.split(":", 1)[1] for s in capability.stores(settings))


def test_a_tenant_deletion_sweeps_every_capability_s_stores_and_the_platform_table() -> None:
    settings = Settings()
    assert targets(settings) == [
        "dynamodb:maestro-registry",
        "dynamodb:maestro-ab",
        "dynamodb:maestro-sla",
        "dynamodb:maestro-audit",
        "dynamodb:maestro-explain",
        "dynamodb:maestro-monitoring",
        "dynamodb:maestro-training",
        "dynamodb:maestro-delivery",
        "dynamodb:maestro-insights",
        "dynamodb:maestro-platform",
        "s3:maestro-artifacts",
        "s3:maestro-audit-archive",
    ]

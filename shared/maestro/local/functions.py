"""Finding and importing function handler modules from functions/<name>/handler.py.
Must never import a handler under a name another function could shadow."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO_ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS_ROOT = REPO_ROOT / "functions"


def function_names(root: Path = FUNCTIONS_ROOT) -> list[str]:
    return sorted(p.parent.name for p in root.glob("*/handler.py"))


def load_handler_module(name: str, root: Path = FUNCTIONS_ROOT, instance: int = 0) -> ModuleType:
    """Import functions/<name>/handler.py as its own module (cached in sys.modules). Each `instance` is a
    separate copy, like a separate Lambda execution environment: module-level state is not shared."""
    scope = "" if root == FUNCTIONS_ROOT else f"{abs(hash(str(root)))}_"
    module_name = f"maestro_fn_{scope}{name}" + (f"__{instance}" if instance else "")
    if module_name in sys.modules:
        return sys.modules[module_name]
    path = root / name / "handler.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no handler module at {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module

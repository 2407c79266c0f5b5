"""Asset bundling without Docker: function code is copied with the shared package, layers are pip-installed
for the Lambda platform. Must never depend on a Docker engine (none runs on our build machines)."""

from __future__ import annotations

import compileall
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
SHARED_PACKAGE = ROOT / "shared" / "maestro"
# Never deployed in a function: the local runtime, the CLI, and the web console (its built files go to S3).
NOT_DEPLOYED = {"local", "cli", "console"}
LAMBDA_PYTHON = "3.12"
# The python3.12 runtime is Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels run there (and 2014 ones).
LAMBDA_PLATFORM = "x86_64-manylinux_2_28"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
# Never needed at run time, and weight against Lambda's 250 MB: test suites, stale caches, the sources and
# headers of compiled extensions, type stubs.
DEAD_WEIGHT_DIRS = ("tests", "__pycache__")
DEAD_WEIGHT_FILES = ("*.pyx", "*.pxd", "*.pxi", "*.pyi", "*.c", "*.cpp", "*.h", "*.hpp")


def _deployed_package_files() -> list[Path]:
    return sorted(
        p
        for p in SHARED_PACKAGE.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and p.relative_to(SHARED_PACKAGE).parts[0] not in NOT_DEPLOYED
    )


def _files_hash(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _compile(target: Path, sourceless: bool = False) -> None:
    """Lambda's code directory is read-only: without shipped .pyc every cold start compiles again.
    Sourceless (layers): each module's .pyc replaces its .py, which halves the Python part of a layer;
    Python imports a .pyc that sits where its source would be. Only a Python of Lambda's version can
    write bytecode Lambda loads; any other leaves the sources as they are."""
    if sys.version_info[:2] != tuple(int(p) for p in LAMBDA_PYTHON.split(".")):
        return
    # one process: a pool forked from under jsii stalls for seconds per bundle (3.5 min a synth, seen here)
    compileall.compile_dir(str(target), quiet=1, workers=1, legacy=sourceless)
    if sourceless:
        for source in target.rglob("*.py"):
            if source.with_suffix(".pyc").exists():
                source.unlink()


@jsii.implements(ILocalBundling)
class FunctionBundler:
    def __init__(self, source: Path) -> None:
        self.source = source

    def try_bundle(self, output_dir: str, *_options: object, **_kw: object) -> bool:  # jsii passes options
        out = Path(output_dir)
        shutil.copytree(self.source, out, dirs_exist_ok=True, ignore=IGNORED)
        package = out / "maestro"
        for path in _deployed_package_files():
            target = package / path.relative_to(SHARED_PACKAGE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        _compile(out)
        return True


@jsii.implements(ILocalBundling)
class LayerBundler:
    """pip-installs requirements.txt for the Lambda platform (manylinux wheels only) into python/.
    With no_deps, exactly the listed packages: a layer that stacks on another must not install its
    dependencies a second time."""

    def __init__(self, requirements: Path, no_deps: bool = False, from_source: tuple[str, ...] = ()) -> None:
        self.requirements = requirements
        self.no_deps = no_deps
        self.from_source = from_source  # pure-Python packages published only as sdists

    def try_bundle(self, output_dir: str, *_options: object, **_kw: object) -> bool:  # jsii passes options
        target = Path(output_dir) / "python"
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        if uv:
            cmd = [
                uv,
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                "--python-version",
                LAMBDA_PYTHON,
                "--python-platform",
                LAMBDA_PLATFORM,
                "--only-binary",
                ":all:",
                *(arg for name in self.from_source for arg in ("--no-binary", name)),
                *(["--no-deps"] if self.no_deps else []),
                "-r",
                str(self.requirements),
            ]
        else:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                "--platform",
                "manylinux_2_28_x86_64",
                "--python-version",
                LAMBDA_PYTHON,
                "--implementation",
                "cp",
                "--only-binary=:all:",
                *(f"--no-binary={name}" for name in self.from_source),
                *(["--no-deps"] if self.no_deps else []),
                "-r",
                str(self.requirements),
            ]
        subprocess.run(cmd, check=True)  # noqa: S603 - fixed argv, no shell
        slim(target)
        _compile(target, sourceless=True)
        return True


def slim(target: Path) -> None:
    for name in DEAD_WEIGHT_DIRS:
        for junk in list(target.rglob(name)):
            if junk.is_dir():
                shutil.rmtree(junk, ignore_errors=True)
    for pattern in DEAD_WEIGHT_FILES:
        for junk in list(target.rglob(pattern)):
            if junk.is_file():
                junk.unlink()


def function_code(name: str) -> lambda_.Code:
    source = ROOT / "functions" / name
    files = sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return lambda_.Code.from_asset(
        str(source),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=_files_hash(files + _deployed_package_files()),
        bundling=BundlingOptions(image=DockerImage.from_registry("no-docker"), local=FunctionBundler(source)),
    )


def layer_code(name: str, no_deps: bool = False, from_source: tuple[str, ...] = ()) -> lambda_.Code:
    source = ROOT / "layers" / name
    return lambda_.Code.from_asset(
        str(source),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("no-docker"),
            local=LayerBundler(source / "requirements.txt", no_deps=no_deps, from_source=from_source),
        ),
    )

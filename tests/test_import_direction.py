"""Imports point down the pipeline: data <- teacher <- variants <- train / evaluate / keytokens <- predict <- study
<- report <- cli, with the shared services below them: models below every stage, prompting below all but data. A
stage never imports a later one, and a shared service no stage it serves, neither at module level (checked by
importing each level with the later ones blocked) nor inside a function (checked in the source)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cotdistill"
#: Services every stage uses; they import no stage (only configbase, errors, files, hardware, registry).
SHARED_SERVICES = ["models"]
STAGES = [SHARED_SERVICES, ["data"], ["teacher"], ["variants"], ["train", "evaluate", "keytokens"], ["predict"],
          ["study"], ["report"], ["cli"]]
LEVEL = {name: level for level, group in enumerate(STAGES) for name in group}
#: Imports inside functions that still point up (none left): the test fails when one comes.
KNOWN_UPWARD: set[tuple[str, str]] = set()
#: Shared service modules -> the stages each may import (every other stage is off limits, at any depth).
SHARED = {"prompting": ["data"]}

IMPORT_EACH_STAGE = """
import importlib, pkgutil, sys
stages = {stages!r}
failures = []
for level, group in enumerate(stages):
    blocked = tuple(f"cotdistill.{{name}}" for later in stages[level + 1:] for name in later)

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.startswith(tuple(b + "." for b in blocked)) or name in blocked:
                raise ImportError(f"blocked: {{name}} is a later stage")

    for name in [m for m in sys.modules if m.startswith("cotdistill")]:
        del sys.modules[name]
    sys.meta_path.insert(0, Block())
    for stage in group:
        package = importlib.import_module(f"cotdistill.{{stage}}")
        for module in pkgutil.walk_packages(package.__path__, f"cotdistill.{{stage}}."):
            try:
                importlib.import_module(module.name)
            except ImportError as err:
                failures.append(f"{{module.name}}: {{err}}")
    sys.meta_path.pop(0)
print("\\n".join(failures))
"""


def test_each_stage_imports_with_the_later_stages_blocked():
    result = subprocess.run([sys.executable, "-c", IMPORT_EACH_STAGE.format(stages=STAGES)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def cotdistill_imports(path: Path) -> list[tuple[str, str]]:
    """``(top-level package, module)`` of every ``cotdistill.<package>...`` import in ``path``, at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        found += [(m.split(".")[1], m) for m in modules if m.startswith("cotdistill.")]
    return found


def upward_imports(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """``(file, imported module)`` for every import of a later stage, at any depth of the file."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        stage = path.relative_to(root).parts[0]
        if stage not in LEVEL:
            continue
        for package, module in cotdistill_imports(path):
            if LEVEL.get(package, -1) > LEVEL[stage]:
                found.add((path.relative_to(root).as_posix(), module))
    return found


def test_no_function_imports_a_later_stage_but_the_known_ones():
    assert upward_imports() == KNOWN_UPWARD


def test_the_source_check_sees_a_lazy_upward_import(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.py").write_text("def f():\n    from cotdistill.study.runner import run_study\n")
    assert upward_imports(tmp_path) == {("data/x.py", "cotdistill.study.runner")}


def test_the_source_check_sees_a_shared_service_importing_a_stage(tmp_path):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "x.py").write_text("from cotdistill.data.example import Example\n"
                                              "def f():\n    from cotdistill.variants.base import PromptFormat\n")
    assert upward_imports(tmp_path) == {("models/x.py", "cotdistill.data.example"),
                                        ("models/x.py", "cotdistill.variants.base")}


IMPORT_SERVICE = """
import importlib, sys
blocked = {blocked!r}

class Block:
    def find_spec(self, name, path=None, target=None):
        if name in blocked or name.startswith(tuple(b + "." for b in blocked)):
            raise ImportError(f"blocked: {{name}} is a stage")

sys.meta_path.insert(0, Block())
importlib.import_module("cotdistill.{service}")
"""


def test_each_shared_service_imports_with_the_other_stages_blocked():
    for service, allowed in SHARED.items():
        blocked = [f"cotdistill.{name}" for group in STAGES for name in group if name not in allowed]
        result = subprocess.run([sys.executable, "-c", IMPORT_SERVICE.format(blocked=blocked, service=service)],
                                capture_output=True, text=True, timeout=300,
                                env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)})
        assert result.returncode == 0, result.stderr


def service_stage_imports(root: Path = PACKAGE) -> set[tuple[str, str]]:
    """``(file, imported module)`` for every import of a stage a shared service may not use, at any depth."""
    found = set()
    for service, allowed in SHARED.items():
        module_file = root / f"{service}.py"
        files = [module_file] if module_file.is_file() else sorted((root / service).rglob("*.py"))
        for path in files:
            for package, module in cotdistill_imports(path):
                if package in LEVEL and package not in allowed:
                    found.add((path.relative_to(root).as_posix(), module))
    return found


def test_no_shared_service_imports_a_stage_it_serves():
    assert service_stage_imports() == set()


def test_the_service_check_sees_a_lazy_stage_import(tmp_path):
    (tmp_path / "prompting.py").write_text("def f():\n    from cotdistill.variants.base import Variant\n")
    assert service_stage_imports(tmp_path) == {("prompting.py", "cotdistill.variants.base")}

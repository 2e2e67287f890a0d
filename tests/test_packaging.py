"""The package accepts the torch a GPU user already has; the offline install pins the one the docs measured."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]


def test_torch_is_a_lower_bound_in_the_package_and_pinned_by_the_install_script():
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = next(Requirement(d) for d in dependencies if Requirement(d).name == "torch")
    assert all(spec.operator == ">=" for spec in torch.specifier)
    # a CUDA build of a later release (e.g. 2.14.0+cu128) satisfies it
    assert torch.specifier.contains(Version("2.14.0+cu128")) and torch.specifier.contains(Version("2.13.0"))
    assert "pip install -q --disable-pip-version-check torch==2.13.0" in (REPO / "scripts" / "install.sh").read_text()

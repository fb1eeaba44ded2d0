"""The architecture as a test: imports point down only.

    app        ssr_neuro.app (pipeline, cli, compare, dse, model_variants), ssr_neuro.__main__
    model side ssr_neuro.data, .model, .baselines, .training, .conversion      chip side  mapping, hardware
    foundation ssr_neuro (package), .errors, .files, .progress, .runtime, .metrics, .counting, .graph  (no torch)

A module may import its own layer and the layers below it; the model side and the chip side never import each
other; the foundation and the chip side never import torch; only hardware.lava imports Lava. Every import counts,
also the ones inside functions (they run too).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {  # module prefix -> layer
    "ssr_neuro": "foundation", "ssr_neuro.errors": "foundation", "ssr_neuro.files": "foundation",
    "ssr_neuro.progress": "foundation", "ssr_neuro.runtime": "foundation", "ssr_neuro.metrics": "foundation",
    "ssr_neuro.counting": "foundation", "ssr_neuro.graph": "foundation",
    "ssr_neuro.data": "model", "ssr_neuro.model": "model", "ssr_neuro.baselines": "model",
    "ssr_neuro.training": "model", "ssr_neuro.conversion": "model",
    "mapping": "chip", "hardware": "chip",
    "ssr_neuro.app": "app", "ssr_neuro.__main__": "app",
}
MAY_IMPORT = {"foundation": {"foundation"}, "model": {"foundation", "model"}, "chip": {"foundation", "chip"},
              "app": {"foundation", "model", "chip", "app"}}
TORCH_FREE = {"foundation", "chip"}


def layer_of(module: str) -> str | None:
    """The layer of a project module by its longest listed prefix; None for modules outside the project."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, imported module) of every import statement in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # "from pkg import sub" may name a submodule: count pkg.sub where that is a module of the project
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{a.name}") for a in node.names
                      if layer_of(f"{base}.{a.name}") and _is_module(f"{base}.{a.name}")]
    return found


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def project_files() -> list[Path]:
    return sorted(p for top in ("ssr_neuro", "mapping", "hardware") for p in (ROOT / top).rglob("*.py"))


def violations() -> list[str]:
    bad = []
    for path in project_files():
        me = module_name(path)
        mine = layer_of(me)
        assert mine is not None, f"{me} belongs to no layer: add it to LAYERS in {__file__}"
        for line, target in imports_of(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            top = target.split(".")[0]
            if top == "torch" and mine in TORCH_FREE:
                bad.append(f"{where}: the {mine} layer imports torch")
            if top == "lava" and not me.startswith("hardware.lava"):
                bad.append(f"{where}: only hardware.lava may import Lava")
            theirs = layer_of(target)
            if theirs is not None and theirs not in MAY_IMPORT[mine]:
                bad.append(f"{where}: {me} ({mine}) imports {target} ({theirs})")
    return bad


def test_every_module_has_a_layer_and_imports_point_down():
    assert violations() == []


@pytest.mark.parametrize("source, expected", [
    ("from ssr_neuro.app.pipeline import SamplePlan\n", "imports ssr_neuro.app.pipeline (app)"),
    ("import torch\n", "imports torch"),
    ("def f():\n    from hardware.chip import load_chip\n", "imports hardware.chip (chip)"),
])
def test_the_checker_catches_an_upward_import(tmp_path, monkeypatch, source, expected):
    """A foundation module that imports upwards (or torch), even inside a function, is reported."""
    fake = ROOT / "ssr_neuro" / "graph" / "_layer_probe.py"
    monkeypatch.setattr(__import__(__name__), "project_files", lambda: [fake])
    original = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source if self == fake else original(self, *a, **k))
    found = violations()
    assert len(found) == 1 and expected in found[0], found


def test_layer_of_uses_the_longest_prefix():
    assert layer_of("ssr_neuro.app.dse.run") == "app"
    assert layer_of("ssr_neuro.graph.quantize") == "foundation"
    assert layer_of("ssr_neuro") == "foundation"
    assert layer_of("numpy") is None

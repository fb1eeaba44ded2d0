"""Files: writing atomically (a temporary file in the target's folder, renamed into place; nothing is left behind on
failure, and a reader never sees a half-written file), and reading TOML documents with one-line errors."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Callable

from ssr_neuro.errors import UserError


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp_path)``, then move the result to ``path`` in one rename (mode 0644, not mkstemp's 0600)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_toml(path: Path, what: str, error: type[UserError] = UserError) -> dict:
    """The TOML document at ``path``; ``error`` ("<what> <path>: ...", one line) on a syntax error (with its line),
    text that is not UTF-8, or a file that cannot be read. (tomllib, or tomli on Python 3.10, imported here: the Lava
    worker's Python 3.10 environment imports this module and has no tomli.)"""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise error(f"{what} {path}: TOML syntax error: {e}") from None
    except UnicodeDecodeError:
        raise error(f"{what} {path}: not UTF-8 text; a {what} is TOML") from None
    except OSError as e:
        raise error(f"{what} {path}: cannot read it ({e.strerror})") from None


def check_writable(path: Path, overwrite: bool, error: type[UserError] = UserError) -> None:
    """The one overwrite guard: refuse an existing file unless ``overwrite`` (--force), and a folder always; call it
    before any work is done, so that a refusal costs nothing and leaves nothing half-written."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path} is a folder; give a file name")
    if path.exists() and not overwrite:
        raise error(f"{path} already exists; pass --force to overwrite it or choose another path")


def have_matplotlib() -> bool:
    """Whether plots can be drawn here (matplotlib is optional: extras ``plot`` / ``test``)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def pyplot():
    """The one optional-matplotlib guard: ``matplotlib.pyplot`` on the Agg backend, or a one-line UserError."""
    try:
        import matplotlib
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'ssr-neuro[plot]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt

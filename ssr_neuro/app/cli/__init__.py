"""The ``ssr-neuro`` command line (typer), one module per command group:

- ``model``    train, evaluate, recommend, datasets, doctor      (the model side)
- ``chip``     convert, map, simulate                            (the walk of ``ssr_neuro.app.pipeline``)
- ``explore``  compare, dse                                      (studies over many models or chips)
- ``common``   the app, option enums, output, threads

Conventions: results go to stdout (with ``--json``: one JSON object and nothing else); logs, dataset statistics and
progress bars go to stderr. Bad input ends with a one-line ``error: ...`` on stderr and exit code 2, no traceback,
and nothing written. Ctrl-C during training keeps the best checkpoint so far (exit code 130).
"""

from __future__ import annotations

import sys
from typing import Optional

from ssr_neuro.app.cli import model, chip, explore  # noqa: F401,I001  (importing a group registers its commands, in this order)
from ssr_neuro.app.cli.common import app
from ssr_neuro.errors import UserError


def main(argv: Optional[list[str]] = None) -> int:
    """Entry point: runs the app; a UserError becomes one line on stderr and exit code 2 (usage errors are 2 too)."""
    try:
        app(args=argv, prog_name="ssr-neuro")  # standalone mode: ends with SystemExit
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

"""Results of a sweep in one SQLite file, a row per design point keyed by its id, written the moment it finishes.

Tables::

    meta(key TEXT PRIMARY KEY, value TEXT)      "base": the canonical JSON of the sweep's [base] and graph digest
    points(id TEXT PRIMARY KEY, point TEXT, status TEXT, reason TEXT, result TEXT, finished REAL)
        point:  canonical JSON of the parameters;  status: "ok" | "failed";  reason: why it failed (or NULL)
        result: JSON of the measured values (ssr_neuro.app.dse.evaluate);  finished: Unix time

Each ``put`` commits, so an interrupted sweep keeps every finished point; a re-run asks ``done_ids`` and computes only
the rest. A store belongs to one base: opening it for another raises UserError (results would not compare).
``load_results(path)`` gives one row per point with a column per parameter (the point's keys) and per measured value.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from ssr_neuro.app.dse.space import canonical_json
from ssr_neuro.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS points (id TEXT PRIMARY KEY, point TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
                                   result TEXT NOT NULL, finished REAL NOT NULL);
"""


class ResultStore:
    """An open results file (use as a context manager)."""

    def __init__(self, path: Path | str, base_key: dict) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(self.path)
            self.db.executescript(SCHEMA)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'base'").fetchone()
        except sqlite3.DatabaseError as e:
            raise UserError(f"{self.path}: not a results file of 'ssr-neuro dse' ({e}); give another output path")
        key = canonical_json(base_key)
        if row is None:
            with self.db:
                self.db.execute("INSERT INTO meta VALUES ('base', ?)", (key,))
        elif row[0] != key:
            self.db.close()
            raise UserError(f"{self.path} holds results of another base design (graph, chip or samples differ); "
                            "give a new output file or delete this one")

    def done_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM points")}

    def put(self, pid: str, point: dict, result: dict) -> None:
        """Store one finished point (committed at once)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?)",
                            (pid, canonical_json(point), result["status"], result.get("reason"),
                             json.dumps({k: v for k, v in result.items() if k not in ("status", "reason")}),
                             time.time()))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "ResultStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_results(path: Path | str):
    """A pandas DataFrame, one row per stored point: id, status, reason, the parameters, the measured values."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such results file; run 'ssr-neuro dse' first")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute("SELECT id, point, status, reason, result FROM points ORDER BY finished, id").fetchall()
    records = [{"id": pid, "status": status, "reason": reason, **json.loads(point), **json.loads(result)}
               for pid, point, status, reason, result in rows]
    return pd.DataFrame.from_records(records)

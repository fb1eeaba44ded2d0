"""Raw readers for interaction files: each returns one table of who interacted with what, and when.

Every reader returns a :class:`pandas.DataFrame` with the columns

- ``user``      (str)   original user id,
- ``item``      (str)   original item id,
- ``timestamp`` (int64 or float64) used only to order a user's interactions,
- ``order``     (int64) the row's position in the file (0-based, counting only the rows kept), the tie-break
  for equal timestamps.

Supported formats (see :data:`FORMATS`): MovieLens-100K ``u.data``, MovieLens-1M ``ratings.dat``, one-user-per-line
sequence files (``user item item ...``; the position is the time), Amazon ratings-only CSV
(``item,user,rating,timestamp``), Steam ``steam_reviews.json.gz`` (Python-literal dicts, parsed with
:func:`ast.literal_eval`, never ``eval``), RetailRocket ``events.csv`` (views only) and generic CSV/TSV tables with
named columns (:func:`load_table`).

Parsing is vectorised (pandas' C parser) where the format allows; when the fast path finds anything wrong, a slow
line-by-line scan finds the first bad line so the :class:`~ssr_neuro.errors.DataError` can name the file and its
1-based line number. Files may be gzip-compressed (detected from their first bytes).
"""

from __future__ import annotations

import ast
import csv
import gzip
import io
import math
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ssr_neuro.errors import DataError

COLUMNS = ("user", "item", "timestamp", "order")

#: format id -> one-line description (for ``ssr-neuro datasets`` and error messages)
FORMATS: dict[str, str] = {
    "udata": "MovieLens-100K u.data: user<TAB>item<TAB>rating<TAB>timestamp, no header",
    "ratings_dat": "MovieLens-1M ratings.dat: user::item::rating::timestamp",
    "sequence": "one user per line: 'user item item ...', items in time order (position = time)",
    "amazon": "Amazon ratings-only CSV: item,user,rating,timestamp, no header",
    "steam": "Steam steam_reviews.json.gz: one Python-literal dict per line (user_id, product_id, date)",
    "retailrocket": "RetailRocket events.csv: timestamp,visitorid,event,itemid,transactionid (views kept)",
    "table": "CSV/TSV with a header row and named user, item and (optional) time columns",
}

#: column names tried, in order, when a table's columns are not given (compared case-insensitively)
DEFAULT_TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "user": ("user", "user_id", "userid", "uid", "visitorid", "reviewerid", "customer_id", "session_id"),
    "item": ("item", "item_id", "itemid", "iid", "product_id", "productid", "asin", "movie_id", "movieid"),
    "time": ("timestamp", "time", "ts", "date", "datetime", "unixreviewtime", "event_time"),
}

_MAX_SHOWN = 80  # characters of a bad line quoted in an error message


# --------------------------------------------------------------------------------------------- reading text


def read_text(path: Path) -> str:
    """The file's content as text: gzip is detected from the magic bytes, UTF-8 (a BOM is dropped)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a data file; give the file inside it") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); check its permissions") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"{path}: damaged gzip file ({exc}); download it again") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path} line {line}: not UTF-8 text (byte {raw[exc.start]:#04x}); convert the file to UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def first_line(path: Path, limit: int = 1 << 16) -> str:
    """The first non-blank line of a (possibly gzip) file, or '' (cheap: reads at most ``limit`` bytes)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
        opener = gzip.open if head == b"\x1f\x8b" else open
        with opener(path, "rb") as fh:  # type: ignore[operator]
            chunk = fh.read(limit)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; check the path") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read it ({exc}); check the file") from None
    for line in _lines(chunk.decode("utf-8", errors="replace").lstrip("\ufeff")):
        if line.strip():
            return line
    return ""


def stream_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(1-based number, line) of a (possibly gzip) UTF-8 file, read as a stream (for files too big to hold twice)."""
    path = Path(path)
    number = 0
    try:
        with open(path, "rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if gz else open(path, "rb") as fh:  # binary lines end at b"\n" only
            for number, raw in enumerate(fh, start=1):
                line = raw.decode("utf-8").removesuffix("\n").removesuffix("\r")
                yield number, (line.lstrip("\ufeff") if number == 1 else line)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a data file; give the file inside it") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} line {number}: not UTF-8 text; convert the file to UTF-8") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DataError(f"{path}: damaged gzip file ({exc}); download it again") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot read it ({exc.strerror or exc}); check the file") from None


def _lines(text: str) -> list[str]:
    """Lines split at newlines only (a trailing CR dropped): unlike str.splitlines, never inside a field that holds
    U+2028, a form feed or the like, so line numbers agree with pandas' and with a text editor's."""
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _show(line: str) -> str:
    line = line.rstrip("\r\n")
    return repr(line if len(line) <= _MAX_SHOWN else line[:_MAX_SHOWN] + "...")


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _str_array(values: Sequence | np.ndarray | pd.Series) -> pd.api.extensions.ExtensionArray:
    if isinstance(values, pd.Series):
        return (values if values.dtype == "str" else values.astype("str")).array
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def _frame(user: Sequence | np.ndarray | pd.Series, item: Sequence | np.ndarray | pd.Series, timestamp: np.ndarray) -> pd.DataFrame:
    timestamp = np.asarray(timestamp)
    if timestamp.dtype.kind in "iub":
        timestamp = timestamp.astype(np.int64, copy=False)
    else:
        timestamp = timestamp.astype(np.float64, copy=False)
    n = len(timestamp)
    return pd.DataFrame(
        {
            "user": _str_array(user),
            "item": _str_array(item),
            "timestamp": timestamp,
            "order": np.arange(n, dtype=np.int64),
        }
    )


def _empty_check(path: Path, frame: pd.DataFrame, what: str) -> pd.DataFrame:
    if len(frame) == 0:
        raise DataError(f"{path}: no interactions found ({what}); check that this is the right file")
    return frame


# ------------------------------------------------------------------------------ fixed-column delimited files


def _scan_fixed(path: Path, text: str, sep: str, check: Callable[[list[str]], str | None], expected: str) -> None:
    """Slow path: raise DataError for the first bad line (blank lines are skipped)."""
    for number, line in enumerate(_lines(text), start=1):
        if not line.strip():
            continue
        problem = check(line.split(sep))
        if problem is not None:
            raise DataError(f"{path} line {number}: expected {expected!r}, got {_show(line)} ({problem}); fix or remove that line")


def _read_fixed(
    path: Path,
    sep: str,
    n_fields: int,
    id_fields: tuple[int, int],
    numeric_fields: tuple[int, ...],
    time_field: int,
    expected: str,
) -> pd.DataFrame:
    """A headerless file of exactly ``n_fields`` ``sep``-separated fields per line (no quoting).

    Fast path: pandas' C parser reads the ids as strings and infers the numeric columns; anything odd (a column
    that is not numeric, a missing field, a non-finite number) sends the file through :func:`_scan_fixed`, which
    names the first bad line.
    """
    text = read_text(path)

    def check(fields: list[str]) -> str | None:
        if len(fields) != n_fields:
            return f"{len(fields)} fields instead of {n_fields}"
        for k in id_fields:
            if not fields[k]:
                return f"field {k + 1} is empty"
        for k in numeric_fields:
            if fields[k] != fields[k].strip() or not _is_number(fields[k]):
                return f"field {k + 1} is not a number"
        return None

    body = text.replace(sep, "\t") if len(sep) > 1 else text
    csep = "\t" if len(sep) > 1 else sep
    try:
        table = pd.read_csv(
            io.StringIO(body), sep=csep, header=None, dtype={k: str for k in id_fields},
            keep_default_na=False, na_values=[""], quoting=csv.QUOTE_NONE, engine="c", skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        return _empty_check(path, _frame([], [], np.zeros(0, np.int64)), "the file is empty")
    except (pd.errors.ParserError, ValueError, KeyError):
        _scan_fixed(path, text, sep, check, expected)
        raise DataError(f"{path}: cannot parse it as {expected!r}; check the file's format") from None
    bad = table.shape[1] != n_fields
    if not bad:
        for k in id_fields:
            bad = bad or bool(table[k].isna().any())
        for k in numeric_fields:
            kind = table[k].dtype.kind
            bad = bad or kind not in "iuf" or (kind == "f" and not np.isfinite(table[k].to_numpy()).all())
    if bad:
        _scan_fixed(path, text, sep, check, expected)
        raise DataError(f"{path}: some row is not {expected!r} but no single line could be blamed; check the file's format")
    user_k, item_k = id_fields
    return _frame(table[user_k], table[item_k], table[time_field].to_numpy())


def load_udata(path: Path) -> pd.DataFrame:
    """MovieLens-100K ``u.data``: ``user<TAB>item<TAB>rating<TAB>timestamp``, no header."""
    return _read_fixed(Path(path), "\t", 4, (0, 1), (2, 3), 3, "user<TAB>item<TAB>rating<TAB>timestamp")


def load_ratings_dat(path: Path) -> pd.DataFrame:
    """MovieLens-1M ``ratings.dat``: ``user::item::rating::timestamp``."""
    return _read_fixed(Path(path), "::", 4, (0, 1), (2, 3), 3, "user::item::rating::timestamp")


def load_amazon(path: Path) -> pd.DataFrame:
    """Amazon ratings-only CSV: ``item,user,rating,timestamp``, no header (note: the item comes first)."""
    return _read_fixed(Path(path), ",", 4, (1, 0), (2, 3), 3, "item,user,rating,timestamp")


# ---------------------------------------------------------------------------------------- sequence files


def load_sequences(path: Path) -> pd.DataFrame:
    """One user per line, ``user item item ...`` (whitespace-separated), items in time order.

    There are no timestamps: the timestamp is the interaction's position in the file, so a user's items keep the
    order of the line (and, should a user appear on several lines, the order of the lines).
    """
    path = Path(path)
    text = read_text(path)
    users: list[str] = []
    counts: list[int] = []
    items: list[str] = []
    for number, line in enumerate(_lines(text), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if len(tokens) < 2:
            raise DataError(
                f"{path} line {number}: expected 'user item [item ...]', got {_show(line)} (no items); "
                "fix or remove that line"
            )
        users.append(tokens[0])
        counts.append(len(tokens) - 1)
        items.extend(tokens[1:])
    user = np.repeat(np.asarray(users, dtype=object), np.asarray(counts, dtype=np.int64))
    frame = _frame(user, items, np.arange(len(items), dtype=np.int64))
    return _empty_check(path, frame, "no non-blank lines")


# -------------------------------------------------------------------------------------------------- steam


def load_steam(path: Path) -> pd.DataFrame:
    """Steam ``steam_reviews.json.gz``: one Python-literal dict per line.

    Each line is parsed with :func:`ast.literal_eval` (only literals: code such as ``__import__('os')`` is
    rejected, never run). Keeps ``user_id`` (user), ``product_id`` (item) and ``date`` (``YYYY-MM-DD``, the
    timestamp, as days since 1970-01-01); rows without a ``user_id`` are dropped. Reviews of the same day keep
    their file order.
    """
    path = Path(path)
    users: list[str] = []
    items: list[str] = []
    dates: list[str] = []
    lines: list[int] = []
    expected = "a dict literal with user_id, product_id and date"
    for number, line in stream_lines(path):
        if not line.strip():
            continue
        try:
            record = ast.literal_eval(line.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise DataError(
                f"{path} line {number}: expected {expected}, got {_show(line)} (not a plain literal); "
                "fix or remove that line"
            ) from None
        if not isinstance(record, dict):
            raise DataError(f"{path} line {number}: expected {expected}, got a {type(record).__name__}; fix or remove that line")
        user = record.get("user_id")
        if user is None or str(user).strip() == "":
            continue
        item = record.get("product_id")
        date = record.get("date")
        if item is None or str(item).strip() == "" or not isinstance(date, str):
            missing = "product_id" if item is None or str(item).strip() == "" else "date"
            raise DataError(f"{path} line {number}: the review has no {missing}; fix or remove that line")
        users.append(str(user))
        items.append(str(item))
        dates.append(date)
        lines.append(number)
    parsed = pd.to_datetime(pd.Series(dates, dtype=object), format="%Y-%m-%d", errors="coerce")
    invalid = parsed.isna().to_numpy()
    if invalid.any():
        k = int(np.argmax(invalid))
        raise DataError(f"{path} line {lines[k]}: date {dates[k]!r} is not YYYY-MM-DD; fix or remove that line")
    days = parsed.to_numpy().astype("datetime64[D]").astype(np.int64) if len(dates) else np.zeros(0, np.int64)
    return _empty_check(path, _frame(users, items, days), "no review has a user_id")


# ------------------------------------------------------------------------------------ tables with headers


def _scan_table(path: Path, text: str, sep: str, check: Callable[[list[str]], str | None], header: Sequence[str]) -> None:
    """Slow path for a CSV with a header: raise DataError at the first bad row (physical line number)."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    for row in reader:  # skip the header (the first non-blank row)
        if row and any(field.strip() for field in row):
            break
    width = len(header)
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != width:
            problem = f"{len(row)} fields instead of {width}"
        else:
            problem = check(row)
        if problem is not None:
            shown = sep.join(row)
            raise DataError(f"{path} line {reader.line_num}: {problem} in {_show(shown)}; fix or remove that line")


def _header(text: str, sep: str) -> list[str]:
    """The header row (the first non-blank row) of a delimited text."""
    for row in csv.reader(io.StringIO(text), delimiter=sep):
        if row and any(field.strip() for field in row):
            return row
    return []


def _read_header_table(path: Path, text: str, sep: str, str_columns: Sequence[str]) -> pd.DataFrame:
    """A table with a header; ``str_columns`` are read as strings (ids), the others inferred; empty cells -> NA."""
    header = _header(text, sep)
    if not header:
        raise DataError(f"{path}: the file is empty; check that this is the right file")
    try:
        return pd.read_csv(
            io.StringIO(text), sep=sep, header=0, dtype={c: str for c in str_columns if c in header},
            keep_default_na=False, na_values=[""], engine="c", skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{path}: the file is empty; check that this is the right file") from None
    except (pd.errors.ParserError, ValueError):
        _scan_table(path, text, sep, lambda row: None, header)
        raise DataError(f"{path}: cannot parse it as a {sep!r}-separated table; check the separator and quoting") from None


def _time_values(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps, bad-row mask): numbers as they are, else dates/times as int64 nanoseconds (UTC)."""
    if values.dtype.kind in "iu":
        return values.to_numpy(dtype=np.int64), np.zeros(len(values), dtype=bool)
    if values.dtype.kind == "f":
        numbers = values.to_numpy(dtype=np.float64)
        return numbers, ~np.isfinite(numbers)
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(numbers)
    if ok.any() and ok.sum() * 2 >= len(ok):
        return numbers, ~ok
    parsed = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = parsed.isna().to_numpy()
    stamps = np.zeros(len(values), dtype=np.int64)
    if (~bad).any():
        good = parsed[~bad].dt.tz_convert(None).to_numpy().astype("datetime64[ns]")
        stamps[~bad] = good.astype(np.int64)
    return stamps, bad


def _resolve_column(path: Path, header: Sequence[str], role: str, given: str | None, required: bool) -> str | None:
    if given is not None:
        if given in header:
            return given
        raise DataError(
            f"{path}: no column {given!r} for the {role} (columns: {', '.join(map(str, header))}); "
            f"give the right {role} column name"
        )
    lowered = {str(name).strip().lower(): name for name in header}
    for candidate in DEFAULT_TABLE_COLUMNS[role]:
        if candidate in lowered:
            return lowered[candidate]
    if required:
        raise DataError(
            f"{path}: cannot tell which column holds the {role} (columns: {', '.join(map(str, header))}); "
            f"name it with columns={{'{role}': NAME}} (or rename the column to '{role}')"
        )
    return None


def table_separator(path: Path, sep: str | None = None) -> str:
    """The separator of a table: given, else from the extension (.tsv/.tab: tab, .csv: comma), else sniffed."""
    if sep is not None:
        return sep
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".tsv", ".tab")):
        return "\t"
    if name.endswith(".csv"):
        return ","
    return "\t" if "\t" in first_line(path) else ","


def load_table(
    path: Path,
    user_col: str | None = None,
    item_col: str | None = None,
    time_col: str | None = None,
    sep: str | None = None,
) -> pd.DataFrame:
    """A CSV/TSV with a header row: user and item columns by name, an optional time column.

    ``sep`` defaults to tab for .tsv/.tab files and comma for .csv files (sniffed otherwise). Column names that
    are not given are looked up among common names (:data:`DEFAULT_TABLE_COLUMNS`). The time column may hold
    numbers (used as they are) or dates/times (converted to int64 nanoseconds, UTC). Without a time column the
    file order is the time.
    """
    path = Path(path)
    separator = table_separator(path, sep)
    text = read_text(path)
    header = _header(text, separator)
    if not header:
        raise DataError(f"{path}: the file is empty; check that this is the right file")
    user = _resolve_column(path, header, "user", user_col, True)
    item = _resolve_column(path, header, "item", item_col, True)
    time = _resolve_column(path, header, "time", time_col, time_col is not None)
    table = _read_header_table(path, text, separator, [user, item])  # type: ignore[list-item]
    if len(table) == 0:
        raise DataError(f"{path}: the table has a header but no rows; check that this is the right file")
    bad = table[user].isna().to_numpy() | table[item].isna().to_numpy()
    if time is not None:
        stamps, bad_time = _time_values(table[time])
        bad = bad | bad_time
    else:
        stamps = np.arange(len(table), dtype=np.int64)
    if bad.any():
        u, i = header.index(user), header.index(item)  # type: ignore[arg-type]
        t = header.index(time) if time is not None else None

        def check(row: list[str]) -> str | None:
            if not row[u]:
                return f"empty {user!r}"
            if not row[i]:
                return f"empty {item!r}"
            if t is not None:
                _, wrong = _time_values(pd.Series([row[t] or None], dtype=object))
                if wrong[0]:
                    return f"{time!r} value {row[t]!r} is neither a number nor a date"
            return None

        _scan_table(path, text, separator, check, header)
        k = int(np.argmax(bad))
        raise DataError(f"{path}: data row {k + 1} has an empty id or a bad time; fix or remove that row")
    return _frame(table[user], table[item], stamps)


RETAILROCKET_HEADER = ("timestamp", "visitorid", "event", "itemid", "transactionid")


def load_retailrocket(path: Path) -> pd.DataFrame:
    """RetailRocket ``events.csv`` (header ``timestamp,visitorid,event,itemid,transactionid``; timestamp in ms).

    Keeps only ``event == "view"``.
    """
    path = Path(path)
    text = read_text(path)
    header = [name.strip() for name in _header(text, ",")]
    missing = [c for c in RETAILROCKET_HEADER[:4] if c not in header]
    if missing:
        raise DataError(
            f"{path}: expected the header {','.join(RETAILROCKET_HEADER)!r}, got {','.join(header)!r}; "
            "is this RetailRocket's events.csv?"
        )
    table = _read_header_table(path, text, ",", ["visitorid", "event", "itemid"])
    table.columns = [str(c).strip() for c in table.columns]
    stamps, bad = _time_values(table["timestamp"])
    for name in ("visitorid", "event", "itemid"):
        bad = bad | table[name].isna().to_numpy()
    if bad.any():
        ts, vi, ev, it = (header.index(c) for c in RETAILROCKET_HEADER[:4])

        def check(row: list[str]) -> str | None:
            if row[ts] != row[ts].strip() or not _is_number(row[ts]):
                return "timestamp is not a number"
            for k, name in ((vi, "visitorid"), (ev, "event"), (it, "itemid")):
                if not row[k]:
                    return f"empty {name}"
            return None

        _scan_table(path, text, ",", check, header)
        raise DataError(f"{path}: data row {int(np.argmax(bad)) + 1} is malformed; fix or remove that row")
    views = (table["event"] == "view").to_numpy()
    frame = _frame(table["visitorid"][views], table["itemid"][views], stamps[views])
    return _empty_check(path, frame, "no 'view' events")


# ------------------------------------------------------------------------------------------------ formats


_NUMBER = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")


def detect_format(path: Path) -> str:
    """The format id (a key of :data:`FORMATS`) of a file, from its name and, where needed, its first line."""
    path = Path(path)
    name = path.name.lower()
    base = name.removesuffix(".gz")
    if base.endswith((".json", ".jsonl")) or (name.startswith("steam") and name.endswith(".gz")):
        return "steam"
    if name == "u.data" or base.endswith(".data"):
        return "udata"
    if base.endswith(".dat"):
        return "ratings_dat"
    line = first_line(path)
    if not line:
        raise DataError(f"{path}: the file is empty; check that this is the right file")
    tab_fields = line.split("\t")
    comma_fields = line.split(",")
    headerless4 = lambda f: len(f) == 4 and bool(_NUMBER.match(f[2])) and bool(_NUMBER.match(f[3]))  # noqa: E731
    if base.endswith(".txt"):
        if "::" in line:
            return "ratings_dat"
        if headerless4(tab_fields):
            return "udata"
        return "sequence"
    if base.endswith((".csv", ".tsv", ".tab")):
        if [f.strip().lower() for f in comma_fields[:4]] == list(RETAILROCKET_HEADER[:4]):
            return "retailrocket"
        if base.endswith(".csv") and headerless4(comma_fields):
            return "amazon"
        if headerless4(tab_fields):
            return "udata"
        return "table"
    # unknown extension: go by content
    if line.lstrip().startswith("{"):
        return "steam"
    if "::" in line:
        return "ratings_dat"
    if headerless4(tab_fields):
        return "udata"
    raise DataError(
        f"{path}: cannot tell the file's format from its name; name it .csv/.tsv (table with header), "
        ".txt (user item item ...), .dat (user::item::rating::timestamp) or u.data"
    )


def load_file(path: Path, fmt: str | None = None, columns: dict | None = None) -> pd.DataFrame:
    """Read any supported file; ``fmt`` defaults to :func:`detect_format`; ``columns`` names a table's columns
    (keys ``user``, ``item``, ``time`` (or ``timestamp``), optionally ``sep``)."""
    path = Path(path)
    fmt = fmt or detect_format(path)
    if fmt == "table":
        cols = dict(columns or {})
        unknown = set(cols) - {"user", "item", "time", "timestamp", "sep"}
        if unknown:
            raise DataError(f"columns: unknown key(s) {sorted(unknown)}; use user, item, time and sep")
        return load_table(path, cols.get("user"), cols.get("item"), cols.get("time", cols.get("timestamp")), cols.get("sep"))
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        "udata": load_udata,
        "ratings_dat": load_ratings_dat,
        "sequence": load_sequences,
        "amazon": load_amazon,
        "steam": load_steam,
        "retailrocket": load_retailrocket,
    }
    if fmt not in readers:
        raise DataError(f"unknown file format {fmt!r}; use one of {', '.join(FORMATS)}")
    return readers[fmt](path)

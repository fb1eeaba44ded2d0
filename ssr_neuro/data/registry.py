"""The data entry point: dataset names and files -> a cached, split :class:`SequentialDataset`.

:func:`load_dataset` resolves a *source* (a known name, see :data:`DATASETS`, or the path of a file whose format is
detected by :func:`~ssr_neuro.data.loaders.detect_format`), reads it, preprocesses it
(:mod:`ssr_neuro.data.preprocess`) and builds the samples and splits (:mod:`ssr_neuro.data.samples`).

Cache: the preprocessed sequences and the per-user split sizes are stored under ``cache_dir`` (default
``$SSR_NEURO_HOME/cache``, else ``~/.cache/ssr-neuro/cache``) as ``<name>-<key>.npz`` (numpy arrays only, loaded
with ``allow_pickle=False``) plus ``<name>-<key>.json`` (metadata and the npz's SHA-256). The key hashes every
preprocessing and split option (format, k-core, max length, split, test and validation ratios, seed, columns, the
synthetic generator's parameters) and the source file's identity (resolved path, size, modification time), so a
changed option or file never reuses a stale entry. Files are written to a temporary name and moved into place with
:func:`os.replace`; an entry that fails any check (checksum, shapes, ranges) is rebuilt, never trusted. The
histories themselves are not stored: they are re-materialised from the sequences (deterministic, well under a
second for ML-1M), which keeps an ML-1M entry at a few MB.

Data folders: named MovieLens sets are looked for in ``data_dir``, ``data_dir/<name>/`` and the data home
(``$SSR_NEURO_HOME``, else ``~/.cache/ssr-neuro``) under ``<name>/``; ``download=True`` fetches a missing one
(:mod:`ssr_neuro.data.download`) into ``data_dir`` when given, else the data home. A dataset's description records
the file it was read from (``options["data_file"]``); :func:`load_described` looks there first, so later commands
find a checkpoint's data where training found it. Where the file was found is never part of what makes two
descriptions the same data (``SPLIT_OPTION_KEYS``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ssr_neuro.data.download import ARCHIVES, download_movielens
from ssr_neuro.data.loaders import FORMATS, detect_format, load_file
from ssr_neuro.data.preprocess import Sequences, preprocess
from ssr_neuro.data.samples import SPLITS, build_splits, check_split_options, item_counts, split_sizes
from ssr_neuro.data.synthetic import GENERATOR_VERSION, SyntheticConfig, generate_synthetic
from ssr_neuro.data.types import SequentialDataset
from ssr_neuro.errors import DataError
from ssr_neuro.files import atomic_write

#: bump whenever preprocessing or the cache layout changes what an entry means
CACHE_VERSION = 1

#: known dataset names -> (format, file names looked for, description)
DATASETS: dict[str, dict] = {
    "synthetic": {"format": "synthetic", "files": (), "about": "built-in, seeded: Zipf popularity + item successors"},
    "ml-100k": {"format": "udata", "files": ("u.data",), "about": "MovieLens-100K (943 users, 1,682 items)"},
    "ml-1m": {
        "format": "ratings_dat or sequence",
        "files": ("ratings.dat", "ml-1m.txt"),
        "about": "MovieLens-1M (6,040 users; 3,416 items after 5-core)",
    },
    "amazon": {"format": "amazon", "files": (), "about": "Amazon ratings-only CSV (give the file's path)"},
    "steam": {"format": "steam", "files": ("steam_reviews.json.gz",), "about": "Steam reviews (give the file's path)"},
    "retailrocket": {"format": "retailrocket", "files": ("events.csv",), "about": "RetailRocket views (give the file's path)"},
}

_KNOWN_FILES = ("u.data", "ratings.dat", "ml-1m.txt", "steam_reviews.json.gz", "events.csv")


# ------------------------------------------------------------------------------------------------- places


def data_home() -> Path:
    """``$SSR_NEURO_HOME`` when set, else ``~/.cache/ssr-neuro``."""
    home = os.environ.get("SSR_NEURO_HOME", "").strip()
    return Path(home).expanduser() if home else Path.home() / ".cache" / "ssr-neuro"


def default_cache_dir() -> Path:
    return data_home() / "cache"


def _candidates(name: str, data_dir: Path | None, recorded: Path | None = None) -> list[Path]:
    """Where a named dataset's file is looked for, in order: ``recorded`` (a file it was read from before, when it
    has one of the dataset's file names), then ``data_dir``, ``data_dir/<name>/`` and the data home."""
    files = DATASETS[name]["files"]
    folders: list[Path] = []
    if data_dir is not None:
        folders += [data_dir, data_dir / name]
    folders.append(data_home() / name)
    first = [recorded] if recorded is not None and recorded.name in files else []
    return first + [folder / f for folder in folders for f in files]


def _find(name: str, data_dir: Path | None, recorded: Path | None = None) -> Path | None:
    for candidate in _candidates(name, data_dir, recorded):
        if candidate.is_file():
            return candidate
    return None


def _format_of_named(name: str, path: Path) -> str:
    if name in ("ml-100k", "amazon", "steam", "retailrocket"):
        return DATASETS[name]["format"]
    return detect_format(path)


def resolve_source(
    source: str | Path, data_dir: Path | None = None, download: bool = False, quiet: bool = True,
    recorded: Path | None = None,
) -> tuple[str, str, Path | None]:
    """(dataset name, format id, file path or None for synthetic) for a source name or path; a named dataset's
    file is looked for at ``recorded`` first (see ``_candidates``)."""
    text = str(source).strip()
    if not text:
        raise DataError(f"no dataset given; use a name ({', '.join(DATASETS)}) or a file path")
    if text in DATASETS:
        if text == "synthetic":
            return "synthetic", "synthetic", None
        found = _find(text, data_dir, recorded)
        if found is not None:
            return text, _format_of_named(text, found), found
        if text in ARCHIVES and download:
            target = download_movielens(text, data_dir if data_dir is not None else data_home(), quiet=quiet)
            return text, _format_of_named(text, target), target
        if text == "amazon":
            raise DataError(
                "the amazon dataset needs its ratings CSV (item,user,rating,timestamp): pass the file's path as the "
                "dataset, e.g. ratings_Digital_Music.csv"
            )
        looked = ", ".join(str(p) for p in _candidates(text, data_dir, recorded))
        hint = "--data-dir DIR or --download" if text in ARCHIVES else "the file's path as the dataset, or --data-dir DIR"
        raise DataError(f"{text}: no data file found (looked for {looked}); use {hint}")
    path = Path(text).expanduser()
    if path.is_dir():
        found_files = [path / f for f in _KNOWN_FILES if (path / f).is_file()]
        if len(found_files) != 1:
            raise DataError(
                f"{path} is a folder; give the data file inside it (known names: {', '.join(_KNOWN_FILES)})"
            )
        path = found_files[0]
    if path.is_file():
        return path.name, detect_format(path), path
    if any(sep in text for sep in ("/", "\\")) or path.suffix:
        raise DataError(f"{path}: file not found; check the path")
    raise DataError(f"unknown dataset {text!r}; use one of {', '.join(DATASETS)} or the path of a data file")


# -------------------------------------------------------------------------------------------------- cache


def _file_identity(path: Path) -> dict:
    st = path.stat()
    return {"path": str(path.resolve()), "size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


def cache_key(material: dict) -> str:
    """SHA-256 of the canonical JSON of everything that defines the data."""
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:60] or "data"


def _npz(base: Path) -> Path:
    return base.parent / (base.name + ".npz")  # not with_suffix: names such as "u.data-<key>" hold dots


def _json(base: Path) -> Path:
    return base.parent / (base.name + ".json")


def _join_ids(ids: list[str]) -> np.ndarray | None:
    if any("\n" in s for s in ids):
        return None
    return np.frombuffer("\n".join(ids).encode("utf-8"), dtype=np.uint8)


def _split_ids(buffer: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    ids = buffer.tobytes().decode("utf-8").split("\n")
    if len(ids) != count:
        raise ValueError("id count mismatch")
    return ids


def _save_cache(base: Path, meta: dict, seq: Sequences, sizes: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bool:
    user_ids = _join_ids(seq.user_ids)
    item_ids = _join_ids(seq.item_ids)
    if user_ids is None or item_ids is None:
        return False
    items_dtype = np.int32 if seq.n_items < 2**31 - 1 else np.int64
    buffer = io.BytesIO()
    np.savez(
        buffer,
        items=seq.items.astype(items_dtype),
        offsets=seq.offsets.astype(np.int64),
        user_ids=user_ids,
        item_ids=item_ids,
        n_train=sizes[0].astype(np.int64),
        n_valid=sizes[1].astype(np.int64),
        n_test=sizes[2].astype(np.int64),
    )
    data = buffer.getvalue()
    meta = dict(meta, npz_sha256=hashlib.sha256(data).hexdigest(), n_users=seq.n_users, n_items=seq.n_items)
    base.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(_npz(base), lambda tmp: tmp.write_bytes(data))
    text = json.dumps(meta, indent=1, sort_keys=True)
    atomic_write(_json(base), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return True


def _load_cache(base: Path, key: str) -> tuple[Sequences, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The cached entry, after checking everything; raises on any problem (the caller rebuilds)."""
    meta = json.loads(_json(base).read_text(encoding="utf-8"))
    if meta.get("cache_version") != CACHE_VERSION or meta.get("key") != key:
        raise ValueError("stale entry")
    data = _npz(base).read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("npz_sha256"):
        raise ValueError("checksum mismatch")
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in ("items", "offsets", "user_ids", "item_ids", "n_train", "n_valid", "n_test")}
    n_users, n_items = int(meta["n_users"]), int(meta["n_items"])
    items = arrays["items"].astype(np.int64)
    offsets = arrays["offsets"].astype(np.int64)
    if offsets.shape != (n_users + 1,) or offsets[0] != 0 or offsets[-1] != len(items) or (np.diff(offsets) < 0).any():
        raise ValueError("bad offsets")
    if len(items) and (items.min() < 1 or items.max() > n_items):
        raise ValueError("item out of range")
    sizes = tuple(arrays[k].astype(np.int64) for k in ("n_train", "n_valid", "n_test"))
    n_samples = np.maximum(np.diff(offsets) - 1, 0)
    if any(s.shape != (n_users,) or (s < 0).any() for s in sizes) or not np.array_equal(sum(sizes), n_samples):
        raise ValueError("bad split sizes")
    seq = Sequences(
        items=items,
        offsets=offsets,
        user_ids=_split_ids(arrays["user_ids"], n_users),
        item_ids=_split_ids(arrays["item_ids"], n_items),
    )
    return seq, sizes  # type: ignore[return-value]


# ------------------------------------------------------------------------------------------- entry point


def _check_options(k_core: int, seed: int, columns: dict | None) -> None:
    if isinstance(k_core, bool) or not isinstance(k_core, (int, np.integer)) or k_core < 0:
        raise DataError(f"k-core must be an integer >= 0, got {k_core!r}; use e.g. --k-core 5 (0 disables it)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"seed must be an integer, got {seed!r}; use e.g. --seed 2024")
    if columns is not None:
        if not isinstance(columns, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in columns.items()):
            raise DataError("columns must map 'user', 'item', 'time' (and optionally 'sep') to column names (strings)")


def load_dataset(
    source: str | Path = "synthetic",
    *,
    data_dir: Path | None = None,
    cache_dir: Path | None = None,
    max_len: int = 20,
    split: str = "ufo",
    test_ratio: float = 0.2,
    valid_ratio: float = 0.1,
    k_core: int = 5,
    seed: int = 2024,
    download: bool = False,
    columns: dict | None = None,
    quiet: bool = True,
    use_cache: bool = True,
    synthetic: SyntheticConfig | None = None,
    recorded_file: Path | None = None,
) -> SequentialDataset:
    """Load, preprocess, split and cache a dataset (see the module docstring).

    ``source``: a name (:data:`DATASETS`) or a file path. ``max_len``: L, the history length. ``split``: "ufo" or
    "loo" (:mod:`ssr_neuro.data.samples`). ``k_core``: 0 or 1 disables the filter. ``seed``: the synthetic
    generator's seed (part of every cache key). ``columns``: a table's column names (keys user, item, time, sep).
    ``quiet=False`` reports progress and cache use on stderr. ``use_cache=False`` neither reads nor writes the cache.
    ``synthetic``: the generator's parameters for the synthetic source (catalog size ``n_items``, ``n_users``, ...;
    default ``SyntheticConfig()``); DataError with any other source.
    ``recorded_file``: where a named dataset was read from before, looked at first (``load_described``).
    """
    say: Callable[[str], None] = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    check_split_options(max_len, split, test_ratio, valid_ratio)
    _check_options(k_core, seed, columns)
    data_dir = Path(data_dir).expanduser() if data_dir is not None else None
    name, fmt, path = resolve_source(source, data_dir, download, quiet, recorded_file)
    if synthetic is not None and fmt != "synthetic":
        raise DataError(f"synthetic parameters apply to the synthetic source only, not to {source}; drop them")
    if synthetic is not None:
        synthetic.check()
    synthetic = (synthetic or SyntheticConfig()) if fmt == "synthetic" else None

    options = {
        "source": name if str(source).strip() in DATASETS else (str(path.resolve()) if path else name),
        "format": fmt,
        "data_file": str(path.resolve()) if path is not None else None,
        "data_dir": str(data_dir) if data_dir is not None else None,
        "max_len": int(max_len),
        "split": split,
        "test_ratio": float(test_ratio),
        "valid_ratio": float(valid_ratio),
        "k_core": int(k_core),
        "seed": int(seed),
        "columns": dict(columns) if columns else None,
        "synthetic": synthetic_options(synthetic),
    }
    material = {
        "cache_version": CACHE_VERSION,
        "name": name,
        "format": fmt,
        "file": _file_identity(path) if path is not None else None,
        "synthetic": synthetic.as_dict() if synthetic is not None else None,
        **{k: options[k] for k in ("max_len", "split", "test_ratio", "valid_ratio", "k_core", "seed", "columns")},
    }
    key = cache_key(material)
    base = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    base = base / f"{_slug(name)}-{key[:24]}"

    started = time.perf_counter()
    loaded = None
    if use_cache and _json(base).exists():
        try:
            loaded = _load_cache(base, key)
            say(f"{name}: cached copy {_npz(base)}")
        except Exception as exc:  # noqa: BLE001 - any damage means: rebuild
            say(f"{name}: cache entry {_npz(base)} is unusable ({exc.__class__.__name__}: {exc}); rebuilding")
            loaded = None
    if loaded is None:
        say(f"{name}: reading {path if path is not None else 'the built-in generator'} ({FORMATS.get(fmt, fmt)})")
        frame = generate_synthetic(seed, synthetic) if synthetic is not None else load_file(path, fmt, columns)  # type: ignore[arg-type]
        seq = preprocess(frame, int(k_core))
        sizes = split_sizes(np.maximum(seq.lengths - 1, 0), split, test_ratio, valid_ratio)
        if use_cache:
            meta = {"cache_version": CACHE_VERSION, "key": key, "name": name, "material": material, "options": options}
            try:
                if not _save_cache(base, meta, seq, sizes):
                    say(f"{name}: some id contains a newline; not cached")
            except OSError as exc:
                say(f"{name}: cannot write the cache in {base.parent} ({exc}); continuing without it")
    else:
        seq, sizes = loaded
    train, valid, test = build_splits(seq, int(max_len), split, test_ratio, valid_ratio, sizes=sizes)
    say(f"{name}: ready in {time.perf_counter() - started:.2f} s")
    return SequentialDataset(
        name=name,
        options=options,
        n_items=seq.n_items,
        item_ids=list(seq.item_ids),
        user_ids=list(seq.user_ids),
        train=train,
        valid=valid,
        test=test,
        n_interactions=seq.n_interactions,
        item_counts=item_counts(train, seq.n_items),
    )


# ------------------------------------------------------------------------------------ statistics, listing


def dataset_stats(ds: SequentialDataset) -> dict:
    """Users, items, interactions, density, samples per split and average sequence length (JSON-able)."""
    users, items, n = ds.n_users, ds.n_items, ds.n_interactions
    return {
        "name": ds.name,
        "users": users,
        "items": items,
        "interactions": n,
        "density": n / (users * items) if users and items else 0.0,
        "avg_seq_len": n / users if users else 0.0,
        "train_samples": len(ds.train),
        "valid_samples": len(ds.valid),
        "test_samples": len(ds.test),
        "max_len": ds.options.get("max_len"),
        "split": ds.options.get("split"),
        "k_core": ds.options.get("k_core"),
    }


def format_stats(stats: dict) -> str:
    """A short human-readable block of :func:`dataset_stats`."""
    samples = stats["train_samples"] + stats["valid_samples"] + stats["test_samples"]
    lines = [
        f"dataset       {stats['name']}  (split {stats.get('split')}, max length {stats.get('max_len')}, "
        f"{stats.get('k_core')}-core)",
        f"users         {stats['users']:,}",
        f"items         {stats['items']:,}",
        f"interactions  {stats['interactions']:,}  (density {100 * stats['density']:.3f}%, "
        f"{stats['avg_seq_len']:.1f} per user)",
        f"samples       {samples:,}: train {stats['train_samples']:,}, valid {stats['valid_samples']:,}, "
        f"test {stats['test_samples']:,}",
    ]
    return "\n".join(lines)


def list_datasets(data_dir: Path | None = None) -> list[dict]:
    """Known datasets (for ``ssr-neuro datasets``): dicts with name, format, description, downloadable, available,
    path (the file found, or None), note (how to get it) and where (path, else note)."""
    data_dir = Path(data_dir).expanduser() if data_dir is not None else None
    out = []
    for name, spec in DATASETS.items():
        entry = {
            "name": name,
            "format": spec["format"],
            "description": spec["about"],
            "downloadable": name in ARCHIVES,
            "available": False,
            "path": None,
            "note": "",
        }
        if name == "synthetic":
            entry.update(available=True, note="generated on the fly from --seed")
        elif not spec["files"]:
            entry["note"] = "pass the CSV file's path as the dataset"
        else:
            found = _find(name, data_dir)
            if found is not None:
                entry.update(available=True, path=str(found))
            else:
                where = ", ".join(str(p.parent) for p in _candidates(name, data_dir)[:: len(spec["files"])])
                entry["note"] = f"not found in {where}" + ("; use --download" if name in ARCHIVES else "; pass its path")
        entry["where"] = entry["path"] or entry["note"]  # one display string: the file, or how to get one
        out.append(entry)
    return out


__all__ = [
    "CACHE_VERSION",
    "DATASETS",
    "SPLITS",
    "cache_key",
    "data_home",
    "dataset_stats",
    "default_cache_dir",
    "format_stats",
    "list_datasets",
    "load_dataset",
    "resolve_source",
]


SPLIT_OPTION_KEYS = ("max_len", "split", "test_ratio", "valid_ratio", "k_core", "seed", "columns")


def synthetic_options(synthetic: SyntheticConfig | None) -> dict | None:
    """The synthetic generator's parameters and version as a dataset option (None for a file), so that a
    checkpoint's description rebuilds the same catalog (or says it cannot: :func:`load_described`)."""
    return synthetic.as_dict() if synthetic is not None else None


def load_described(desc: dict, data_dir: Path | None = None, quiet: bool = True,
                   what: str = "the model") -> SequentialDataset:
    """Rebuild the dataset a checkpoint or graph describes (its ``dataset`` entry: name, options, item ids) and
    check that the item ids are the same; DataError otherwise (the items would not be the model's). A named
    dataset's file is looked for where it was read from (``options["data_file"]``), then in ``data_dir``, then in
    the usual places."""
    options = dict(desc["options"])
    source = options.pop("source", desc["name"])
    recorded = options.get("data_file")
    generator = options.get("synthetic") if source == "synthetic" else None  # not when --dataset points elsewhere
    if source == "synthetic":
        version = (generator or {}).get("generator_version", 1)  # recorded since version 2
        if version != GENERATOR_VERSION:
            raise DataError(f"{what} was trained on the synthetic set of generator version {version}, which this "
                            f"ssr-neuro cannot rebuild (it generates version {GENERATOR_VERSION}); retrain it with "
                            "ssr-neuro train")
    ds = load_dataset(source, data_dir=data_dir, quiet=quiet,
                      recorded_file=Path(recorded) if isinstance(recorded, str) and recorded else None,
                      synthetic=SyntheticConfig.from_options(generator) if generator else None,
                      **{k: options[k] for k in SPLIT_OPTION_KEYS if k in options})
    if list(ds.item_ids) != list(desc["item_ids"]):
        raise DataError(f"the dataset found for '{desc['name']}' differs from the one {what} was trained on "
                        f"({ds.n_items} vs {desc['n_items']} items or other ids); point --data-dir at the same files")
    return ds

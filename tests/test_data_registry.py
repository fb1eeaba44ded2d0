"""The entry point: sources and names, the dataset contract, the cache (hit, key, corruption), stats and listing."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

import ssr_neuro.data.registry as registry
from ssr_neuro.data import SequentialDataset, dataset_stats, format_stats, list_datasets, load_dataset
from ssr_neuro.errors import DataError
from support import udata_file


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """No test reads or writes the real ~/.cache/ssr-neuro."""
    home = tmp_path / "home"
    monkeypatch.setenv("SSR_NEURO_HOME", str(home))
    return home


def same(a: SequentialDataset, b: SequentialDataset) -> bool:
    arrays = all(
        np.array_equal(getattr(getattr(a, s), f), getattr(getattr(b, s), f))
        for s in ("train", "valid", "test")
        for f in ("history", "length", "target", "user")
    )
    return (
        arrays
        and a.item_ids == b.item_ids
        and a.user_ids == b.user_ids
        and a.options == b.options
        and a.n_interactions == b.n_interactions
        and np.array_equal(a.item_counts, b.item_counts)
    )


def test_synthetic_contract(tmp_path):
    ds = load_dataset("synthetic", cache_dir=tmp_path)
    assert ds.name == "synthetic" and ds.n_users == 800
    assert len(ds.item_ids) == ds.n_items and len(set(ds.item_ids)) == ds.n_items
    for part in (ds.train, ds.valid, ds.test):
        assert part.history.shape == (len(part), 20)
        assert part.target.min() >= 1 and part.target.max() <= ds.n_items
        assert part.history.max() <= ds.n_items and part.user.max() < ds.n_users
    seen = np.concatenate([ds.train.target, ds.valid.target, ds.test.target, ds.train.history.ravel()])
    assert set(np.unique(seen[seen > 0]).tolist()) == set(range(1, ds.n_items + 1))  # ids dense 1..N
    assert ds.item_counts.dtype == np.int64 and ds.item_counts[0] == 0
    assert np.array_equal(ds.item_counts, np.bincount(ds.train.target, minlength=ds.n_items + 1))
    json.dumps(ds.describe())
    expected = {"source", "format", "data_file", "data_dir", "max_len", "split", "test_ratio", "valid_ratio", "k_core", "seed", "columns"}
    assert expected <= set(ds.options)
    assert ds.options["split"] == "ufo" and ds.options["max_len"] == 20 and ds.options["seed"] == 2024


def test_cache_hit_is_identical(tmp_path, monkeypatch):
    first = load_dataset("synthetic", cache_dir=tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 2 and {Path(f).suffix for f in files} == {".npz", ".json"}

    def boom(*args, **kwargs):
        raise AssertionError("cache miss: data rebuilt")

    monkeypatch.setattr(registry, "preprocess", boom)
    monkeypatch.setattr(registry, "generate_synthetic", boom)
    second = load_dataset("synthetic", cache_dir=tmp_path)
    assert same(first, second)
    with np.load(next(tmp_path.glob("*.npz")), allow_pickle=False) as npz:  # plain arrays, no pickle
        assert set(npz.files) >= {"items", "offsets", "user_ids", "item_ids"}


@pytest.fixture
def small(tmp_path) -> Path:
    """A small u.data file (fast to load: keeps the cache tests quick)."""
    return udata_file(tmp_path / "data")


def test_every_option_changes_the_key(tmp_path, small):
    base = dict(max_len=20, split="ufo", test_ratio=0.2, valid_ratio=0.1, k_core=2, seed=2024)
    variants = [
        {},
        {"max_len": 10},
        {"split": "loo"},
        {"test_ratio": 0.3},
        {"valid_ratio": 0.2},
        {"k_core": 3},
        {"seed": 7},
    ]
    for change in variants:
        load_dataset(str(small), cache_dir=tmp_path / "c", **{**base, **change})
    metas = list((tmp_path / "c").glob("*.json"))
    assert len(metas) == len(variants)
    assert len({json.loads(p.read_text())["key"] for p in metas}) == len(variants)
    loo = load_dataset(str(small), cache_dir=tmp_path / "c", split="loo", k_core=2)
    assert len(loo.test) == loo.n_users and loo.options["split"] == "loo"


def test_file_identity_is_in_the_key(tmp_path, small):
    a = load_dataset(str(small), cache_dir=tmp_path / "c", k_core=2)
    assert a.name == "u.data" and a.options["format"] == "udata"
    with small.open("a") as fh:
        fh.write("999\t1\t5\t123\n999\t2\t5\t124\n")
    os.utime(small, ns=(small.stat().st_atime_ns, small.stat().st_mtime_ns + 10**9))
    b = load_dataset(str(small), cache_dir=tmp_path / "c", k_core=2)
    assert b.n_users == a.n_users + 1
    assert len(list((tmp_path / "c").glob("*.json"))) == 2


@pytest.mark.parametrize("damage", ["garbage-npz", "truncate-npz", "garbage-json", "delete-npz", "wrong-key"])
def test_corrupt_cache_is_rebuilt(tmp_path, small, damage):
    cache = tmp_path / "c"
    first = load_dataset(str(small), cache_dir=cache, k_core=2)
    npz = next(cache.glob("*.npz"))
    meta = npz.with_name(npz.name[: -len(".npz")] + ".json")
    if damage == "garbage-npz":
        npz.write_bytes(b"PK\x03\x04 definitely not numpy")
    elif damage == "truncate-npz":
        npz.write_bytes(npz.read_bytes()[:1000])
    elif damage == "garbage-json":
        meta.write_text("{not json")
    elif damage == "delete-npz":
        npz.unlink()
    else:
        content = json.loads(meta.read_text())
        content["key"] = "0" * 64
        meta.write_text(json.dumps(content))
    second = load_dataset(str(small), cache_dir=cache, k_core=2, quiet=False)
    assert same(first, second)
    third = load_dataset(str(small), cache_dir=cache, k_core=2)  # the rebuilt entry is valid again
    assert same(first, third)
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temp files left


def test_forged_cache_arrays_are_rejected(tmp_path, small):
    """An entry whose checksum matches but whose arrays are inconsistent is rebuilt, not trusted."""
    cache = tmp_path / "c"
    first = load_dataset(str(small), cache_dir=cache, k_core=2)
    npz = next(cache.glob("*.npz"))
    with np.load(npz, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["items"] = arrays["items"] + 10_000  # out of range
    with npz.open("wb") as fh:
        np.savez(fh, **arrays)
    meta = npz.with_name(npz.name[: -len(".npz")] + ".json")
    content = json.loads(meta.read_text())
    content["npz_sha256"] = hashlib.sha256(npz.read_bytes()).hexdigest()
    meta.write_text(json.dumps(content))
    assert same(first, load_dataset(str(small), cache_dir=cache, k_core=2))


def test_default_cache_dir_and_no_cache(tmp_path, isolated_home):
    load_dataset("synthetic")
    assert len(list((isolated_home / "cache").glob("*.npz"))) == 1
    load_dataset("synthetic", cache_dir=tmp_path / "none", use_cache=False)
    assert not (tmp_path / "none").exists()


def test_named_lookup_and_errors(tmp_path, isolated_home):
    with pytest.raises(DataError) as info:
        load_dataset("movielens", cache_dir=tmp_path)
    assert "unknown dataset 'movielens'" in str(info.value) and "ml-1m" in str(info.value)
    with pytest.raises(DataError) as info:
        load_dataset("ml-100k", data_dir=tmp_path / "empty", cache_dir=tmp_path)
    message = str(info.value)
    assert "--data-dir DIR or --download" in message and str(tmp_path / "empty" / "ml-100k" / "u.data") in message
    assert "\n" not in message
    with pytest.raises(DataError, match="needs its ratings CSV"):
        load_dataset("amazon", cache_dir=tmp_path)
    with pytest.raises(DataError, match="file not found"):
        load_dataset(str(tmp_path / "missing.csv"), cache_dir=tmp_path)
    # data_dir/<name>/ and the data home are both searched
    udata_file(tmp_path / "dd" / "ml-100k")
    assert load_dataset("ml-100k", data_dir=tmp_path / "dd", cache_dir=tmp_path, k_core=2).name == "ml-100k"
    udata_file(isolated_home / "ml-100k", seed=1)
    ds = load_dataset("ml-100k", cache_dir=tmp_path, k_core=2)
    assert ds.options["data_file"] == str((isolated_home / "ml-100k" / "u.data").resolve())
    # a folder holding one known file works as a source
    assert load_dataset(str(tmp_path / "dd" / "ml-100k"), cache_dir=tmp_path, k_core=2).name == "u.data"


def test_ml1m_accepts_sequence_file(tmp_path):
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    rng = np.random.default_rng(1)
    lines = [" ".join([str(u)] + [str(i) for i in rng.permutation(40)[:12] + 1]) for u in range(1, 21)]
    (folder / "ml-1m.txt").write_text("\n".join(lines) + "\n")
    ds = load_dataset("ml-1m", data_dir=tmp_path, cache_dir=tmp_path / "c", k_core=0, split="loo", max_len=5)
    assert ds.options["format"] == "sequence" and ds.n_users == 20 and ds.n_interactions == 240
    assert len(ds.test) == 20 and len(ds.valid) == 20 and len(ds.train) == 20 * 9
    first_user = lines[0].split()
    assert [ds.item_ids[i - 1] for i in ds.test.history[0][: ds.test.length[0]]] == first_user[-6:-1]
    assert ds.item_ids[ds.test.target[0] - 1] == first_user[-1]


def test_table_with_columns(tmp_path):
    path = tmp_path / "log.csv"
    rows = ["who,what,when"] + [f"u{u},x{(u * 7 + k) % 13},{k}" for u in range(12) for k in range(8)]
    path.write_text("\n".join(rows) + "\n")
    ds = load_dataset(str(path), cache_dir=tmp_path, k_core=0, columns={"user": "who", "item": "what", "time": "when"})
    assert ds.n_users == 12 and ds.options["columns"] == {"user": "who", "item": "what", "time": "when"}
    with pytest.raises(DataError, match="cannot tell which column holds the user"):
        load_dataset(str(path), cache_dir=tmp_path, k_core=0)


def test_bad_options(tmp_path):
    with pytest.raises(DataError, match="max sequence length"):
        load_dataset("synthetic", cache_dir=tmp_path, max_len=0)
    with pytest.raises(DataError, match="k-core"):
        load_dataset("synthetic", cache_dir=tmp_path, k_core=-2)
    with pytest.raises(DataError, match="unknown split"):
        load_dataset("synthetic", cache_dir=tmp_path, split="temporal")
    with pytest.raises(DataError, match="smaller --k-core"):
        load_dataset("synthetic", cache_dir=tmp_path, k_core=60)


def test_stats_and_listing(tmp_path, isolated_home):
    ds = load_dataset("synthetic", cache_dir=tmp_path)
    stats = dataset_stats(ds)
    json.dumps(stats)
    assert stats["users"] == 800 and stats["interactions"] == ds.n_interactions
    assert stats["train_samples"] + stats["valid_samples"] + stats["test_samples"] == ds.n_interactions - ds.n_users
    assert stats["density"] == pytest.approx(ds.n_interactions / (800 * ds.n_items))
    text = format_stats(stats)
    assert "synthetic" in text and f"{ds.n_interactions:,}" in text and len(text.splitlines()) == 5

    udata_file(tmp_path / "dd" / "ml-100k")
    listing = {d["name"]: d for d in list_datasets(tmp_path / "dd")}
    assert set(listing) == {"synthetic", "ml-100k", "ml-1m", "amazon", "steam", "retailrocket"}
    assert listing["synthetic"]["available"] and listing["ml-100k"]["available"]
    assert listing["ml-100k"]["path"] == str(tmp_path / "dd" / "ml-100k" / "u.data")
    assert not listing["ml-1m"]["available"] and "--download" in listing["ml-1m"]["note"]
    assert listing["ml-1m"]["downloadable"] and not listing["steam"]["downloadable"]
    assert all(d["where"] == (d["path"] or d["note"]) for d in listing.values())
    json.dumps(list(listing.values()))


def test_synthetic_catalog_size_is_a_parameter(tmp_path, small):
    from ssr_neuro.data.synthetic import SyntheticConfig

    cfg = SyntheticConfig(n_users=200, n_items=3000, min_len=5, max_len=10)
    big = load_dataset("synthetic", cache_dir=tmp_path, k_core=0, synthetic=cfg)
    default = load_dataset("synthetic", cache_dir=tmp_path, k_core=0)
    assert default.n_items <= 400 < big.n_items <= 3000  # the items the 200 users met, ids 1..n_items
    assert big.train.history.max() <= big.n_items
    with pytest.raises(DataError, match="synthetic"):
        load_dataset(small, cache_dir=tmp_path, synthetic=cfg)
    with pytest.raises(DataError):
        load_dataset("synthetic", cache_dir=tmp_path, synthetic=SyntheticConfig(n_items=1))


def test_a_description_finds_its_data_where_it_was_read_until_it_moves(tmp_path):
    from ssr_neuro.data import load_described
    from ssr_neuro.data.registry import SPLIT_OPTION_KEYS

    udata_file(tmp_path / "dd" / "ml-100k")
    desc = load_dataset("ml-100k", data_dir=tmp_path / "dd", cache_dir=tmp_path, k_core=2).describe()
    assert desc["options"]["data_file"] == str((tmp_path / "dd" / "ml-100k" / "u.data").resolve())
    again = load_described(desc)  # no data_dir: the recorded file is found
    assert again.item_ids == desc["item_ids"] and again.options["data_file"] == desc["options"]["data_file"]
    udata_file(tmp_path / "other" / "ml-100k", seed=1)  # another u.data under the given folder: the recorded wins
    assert load_described(desc, tmp_path / "other").item_ids == desc["item_ids"]
    (tmp_path / "dd").rename(tmp_path / "moved")
    with pytest.raises(DataError) as info:
        load_described(desc)
    assert desc["options"]["data_file"] in str(info.value) and "--data-dir" in str(info.value)
    moved = load_described(desc, tmp_path / "moved")
    assert moved.item_ids == desc["item_ids"]
    assert moved.options["data_file"] != desc["options"]["data_file"]  # where it was found changed, the data did not
    assert not {"data_file", "data_dir", "source"} & set(SPLIT_OPTION_KEYS)
    assert all(moved.options[k] == desc["options"][k] for k in SPLIT_OPTION_KEYS)


def test_a_description_of_an_older_synthetic_generator_is_refused_naming_the_fix(tmp_path):
    from ssr_neuro.data import load_described
    from ssr_neuro.data.synthetic import GENERATOR_VERSION, SyntheticConfig

    cfg = SyntheticConfig(n_items=60, n_users=40, min_len=5, max_len=10)
    desc = load_dataset("synthetic", cache_dir=tmp_path, k_core=0, synthetic=cfg).describe()
    assert desc["options"]["synthetic"]["generator_version"] == GENERATOR_VERSION
    assert load_described(desc).item_ids == desc["item_ids"]
    old = json.loads(json.dumps(desc))
    del old["options"]["synthetic"]["generator_version"]  # what checkpoints of version 1 recorded
    with pytest.raises(DataError, match="generator version 1.*retrain") as info:
        load_described(old, what="model.pt")
    assert "\n" not in str(info.value) and str(info.value).startswith("model.pt")
    del old["options"]["synthetic"]  # older still: no generator options at all
    with pytest.raises(DataError, match="retrain"):
        load_described(old)

"""Raw file readers: every format on small files written here, bad lines named by number, no code execution."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ssr_neuro.data import loaders
from ssr_neuro.errors import DataError, UserError


def write(path: Path, text: str, gz: bool = False) -> Path:
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def check_frame(df: pd.DataFrame) -> None:
    assert list(df.columns) == list(loaders.COLUMNS)
    assert df["user"].dtype == "str" and df["item"].dtype == "str"
    assert df["timestamp"].dtype in (np.int64, np.float64)
    assert df["order"].dtype == np.int64
    assert np.array_equal(df["order"].to_numpy(), np.arange(len(df)))


def raises_line(fn, path: Path, line: int) -> str:
    with pytest.raises(DataError) as info:
        fn(path)
    message = str(info.value)
    assert isinstance(info.value, UserError)
    assert f"line {line}:" in message, message
    assert str(path) in message and "\n" not in message
    return message


# ------------------------------------------------------------------------------------------- u.data


def test_udata_reads_columns(tmp_path):
    path = write(tmp_path / "u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n22\t377\t1\t878887116\n")
    df = loaders.load_udata(path)
    check_frame(df)
    assert df["user"].tolist() == ["196", "186", "22"]
    assert df["item"].tolist() == ["242", "302", "377"]
    assert df["timestamp"].tolist() == [881250949, 891717742, 878887116]
    assert df["timestamp"].dtype == np.int64


@pytest.mark.parametrize(
    "bad",
    ["1\t2\t3\n", "1\t2\t3\t4\t5\n", "1\t2\tx\t4\n", "1\t2\t3\tsoon\n", "\t2\t3\t4\n", "1\t2\t3\tnan\n"],
)
def test_udata_bad_line_is_named(tmp_path, bad):
    path = write(tmp_path / "u.data", "1\t10\t5\t100\n\n2\t11\t4\t101\n" + bad + "3\t12\t3\t102\n")
    raises_line(loaders.load_udata, path, 4)


def test_ratings_dat(tmp_path):
    path = write(tmp_path / "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1357::5::978298709\n")
    df = loaders.load_ratings_dat(path)
    check_frame(df)
    assert df["item"].tolist() == ["1193", "661", "1357"]
    assert df["timestamp"].tolist() == [978300760, 978302109, 978298709]


def test_ratings_dat_bad_line_message(tmp_path):
    lines = [f"1::{i}::5::{1000 + i}" for i in range(16)] + ["abc"] + ["2::3::4::5"]
    path = write(tmp_path / "ratings.dat", "\n".join(lines) + "\n")
    message = raises_line(loaders.load_ratings_dat, path, 17)
    assert "expected 'user::item::rating::timestamp'" in message and "'abc'" in message
    assert "fix or remove that line" in message


def test_amazon_item_comes_first(tmp_path):
    path = write(tmp_path / "ratings_Music.csv", "B001,A9,5.0,1360540800\nB002,A9,4.0,1360540900\nB001,A7,3.0,1\n")
    df = loaders.load_amazon(path)
    check_frame(df)
    assert df["user"].tolist() == ["A9", "A9", "A7"]
    assert df["item"].tolist() == ["B001", "B002", "B001"]
    bad = write(tmp_path / "bad.csv", "B001,A9,5.0,1360540800\nB002,A9,4.0\n")
    raises_line(loaders.load_amazon, bad, 2)


# ---------------------------------------------------------------------------------------- sequences


def test_sequence_file_position_is_time(tmp_path):
    path = write(tmp_path / "seq.txt", "1 10 11 12\n\n2  20\t21\n1 13\n")
    df = loaders.load_sequences(path)
    check_frame(df)
    assert df["user"].tolist() == ["1", "1", "1", "2", "2", "1"]
    assert df["item"].tolist() == ["10", "11", "12", "20", "21", "13"]
    assert (np.diff(df["timestamp"].to_numpy()) > 0).all()


def test_sequence_file_line_without_items(tmp_path):
    path = write(tmp_path / "seq.txt", "1 10 11\n2 5\n\n3\n4 1 2\n")
    message = raises_line(loaders.load_sequences, path, 4)
    assert "no items" in message


# ------------------------------------------------------------------------------------------------ steam


STEAM_LINES = [
    "{u'username': u'a', u'hours': 0.1, u'product_id': u'725280', u'date': u'2017-12-17', u'text': u'ok', u'user_id': u'765'}",
    "{u'username': u'b', u'product_id': u'328100', u'date': u'2017-10-16', u'text': u\"it's {fine}\"}",  # no user_id
    "{'user_id': '765', 'product_id': '328100', 'date': '2017-10-16', 'early_access': False}",
    "{'user_id': '9', 'product_id': '1', 'date': '2016-01-02', 'text': u'\\u00e9t\\u00e9'}",
]


def test_steam_literal_lines(tmp_path):
    path = write(tmp_path / "steam_reviews.json.gz", "\n".join(STEAM_LINES) + "\n", gz=True)
    df = loaders.load_steam(path)
    check_frame(df)
    assert df["user"].tolist() == ["765", "765", "9"]
    assert df["item"].tolist() == ["725280", "328100", "1"]
    days = df["timestamp"].to_numpy()
    assert days.dtype == np.int64
    assert days[0] == (np.datetime64("2017-12-17") - np.datetime64("1970-01-01")).astype(int)
    assert days[1] < days[0]


@pytest.mark.parametrize(
    "evil",
    [
        "__import__('pathlib').Path({sentinel!r}).touch()",
        "{{'user_id': __import__('pathlib').Path({sentinel!r}).touch(), 'product_id': '1', 'date': '2017-01-01'}}",
        "{{'user_id': '1', 'product_id': (lambda: __import__('pathlib').Path({sentinel!r}).touch())(), 'date': 'x'}}",
    ],
)
def test_steam_code_is_rejected_not_run(tmp_path, evil):
    sentinel = tmp_path / "PWNED"
    lines = STEAM_LINES[:1] + [evil.format(sentinel=str(sentinel))] + STEAM_LINES[2:]
    path = write(tmp_path / "steam_reviews.json.gz", "\n".join(lines) + "\n", gz=True)
    message = raises_line(loaders.load_steam, path, 2)
    assert "not a plain literal" in message
    assert not sentinel.exists()


def test_steam_bad_date_and_non_dict(tmp_path):
    path = write(tmp_path / "s.json.gz", STEAM_LINES[0] + "\n{'user_id': '1', 'product_id': '2', 'date': 'May 5'}\n", gz=True)
    assert "YYYY-MM-DD" in raises_line(loaders.load_steam, path, 2)
    path = write(tmp_path / "t.json.gz", STEAM_LINES[0] + "\n[1, 2]\n", gz=True)
    raises_line(loaders.load_steam, path, 2)
    path = write(tmp_path / "u.json.gz", "{'user_id': '1', 'date': '2017-01-01'}\n", gz=True)
    assert "product_id" in raises_line(loaders.load_steam, path, 1)


# ----------------------------------------------------------------------------------------- retailrocket


def test_retailrocket_keeps_views(tmp_path):
    text = (
        "timestamp,visitorid,event,itemid,transactionid\n"
        "1433221332117,257597,view,355908,\n"
        "1433224214164,992329,view,248676,\n"
        "1433221999827,111016,addtocart,318965,\n"
        "1433223236124,483717,transaction,253185,4000\n"
        "1433221955914,951259,view,367447,\n"
    )
    df = loaders.load_retailrocket(write(tmp_path / "events.csv", text))
    check_frame(df)
    assert df["user"].tolist() == ["257597", "992329", "951259"]
    assert df["item"].tolist() == ["355908", "248676", "367447"]
    assert df["timestamp"].tolist() == [1433221332117, 1433224214164, 1433221955914]
    bad = text.replace("1433224214164,992329", "yesterday,992329")
    raises_line(loaders.load_retailrocket, write(tmp_path / "bad.csv", bad), 3)
    with pytest.raises(DataError, match="expected the header"):
        loaders.load_retailrocket(write(tmp_path / "wrong.csv", "a,b,c\n1,2,3\n"))


# ----------------------------------------------------------------------------------------------- tables


def test_table_named_columns_and_dates(tmp_path):
    text = "who,what,when\nu1,i1,2020-01-02\nu1,i2,2020-01-01T10:00:00\n\"u,2\",i1,2021-05-05\n"
    df = loaders.load_table(write(tmp_path / "t.csv", text), "who", "what", "when")
    check_frame(df)
    assert df["user"].tolist() == ["u1", "u1", "u,2"]
    stamps = df["timestamp"].to_numpy()
    assert stamps.dtype == np.int64 and stamps[1] < stamps[0] < stamps[2]


def test_table_defaults_tsv_and_no_time(tmp_path):
    df = loaders.load_table(write(tmp_path / "t.tsv", "user_id\titem_id\trating\nA\tX\t1\nB\tY\t2\n"))
    assert df["user"].tolist() == ["A", "B"] and df["timestamp"].tolist() == [0, 1]
    df = loaders.load_table(write(tmp_path / "t.csv.gz", "user,item,timestamp\nA,X,5.5\nA,Y,1.5\n", gz=True))
    assert df["timestamp"].dtype == np.float64 and df["timestamp"].tolist() == [5.5, 1.5]


def test_table_errors(tmp_path):
    path = write(tmp_path / "t.csv", "a,b\n1,2\n")
    with pytest.raises(DataError, match=r"cannot tell which column holds the user \(columns: a, b\)"):
        loaders.load_table(path)
    with pytest.raises(DataError, match="no column 'nope'"):
        loaders.load_table(path, "nope", "b")
    path = write(tmp_path / "t2.csv", "user,item,time\nA,X,1\nB,Y,2\n\nC,,3\n")
    raises_line(lambda p: loaders.load_table(p), path, 5)
    path = write(tmp_path / "t3.csv", "user,item,time\nA,X,1\nB,Y,2\nC,Z,later\n")
    assert "neither a number nor a date" in raises_line(lambda p: loaders.load_table(p), path, 4)


# ------------------------------------------------------------------------------------- detection, misc


def test_detect_format(tmp_path):
    cases = {
        "u.data": ("1\t2\t3\t4\n", False, "udata"),
        "ratings.dat": ("1::2::3::4\n", False, "ratings_dat"),
        "ml-1m.txt": ("1 2 3 4\n", False, "sequence"),
        "other.txt": ("1::2::3::4\n", False, "ratings_dat"),
        "ratings_Books.csv": ("B0,A1,5.0,1360540800\n", False, "amazon"),
        "events.csv": ("timestamp,visitorid,event,itemid,transactionid\n1,2,view,3,\n", False, "retailrocket"),
        "mine.csv": ("user,item,timestamp\n1,2,3\n", False, "table"),
        "mine.tsv": ("user\titem\n1\t2\n", False, "table"),
        "steam_reviews.json.gz": ("{'user_id': '1'}\n", True, "steam"),
        "noext": ("{'user_id': '1'}\n", False, "steam"),
    }
    for name, (text, gz, fmt) in cases.items():
        assert loaders.detect_format(write(tmp_path / name, text, gz)) == fmt, name
    with pytest.raises(DataError, match="cannot tell the file's format"):
        loaders.detect_format(write(tmp_path / "mystery.bin", "hello world\n"))


def test_missing_empty_and_non_utf8(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        loaders.load_udata(tmp_path / "nope.data")
    with pytest.raises(DataError, match="no interactions"):
        loaders.load_udata(write(tmp_path / "u.data", "\n\n"))
    path = tmp_path / "u2.data"
    path.write_bytes(b"1\t2\t3\t4\n5\t\xff\t3\t4\n")
    raises_line(loaders.load_udata, path, 2)
    path = tmp_path / "s.json"
    path.write_bytes((STEAM_LINES[0] + "\n").encode() * 3 + b"{'user_id': '\xff'}\n")
    raises_line(loaders.load_steam, path, 4)
    broken = tmp_path / "b.json.gz"
    data = gzip.compress((STEAM_LINES[0] + "\n").encode() * 200)
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="damaged gzip"):
        loaders.load_steam(broken)


def test_crlf_and_odd_separators_keep_line_numbers(tmp_path):
    path = write(tmp_path / "u.data", "1\t10\t5\t100\r\n2\t11\t4\t101\r\n3\t12\t3\r\n")
    raises_line(loaders.load_udata, path, 3)
    assert loaders.load_udata(write(tmp_path / "ok.data", "1\t10\t5\t100\r\n2\t11\t4\t101\r\n"))["timestamp"].tolist() == [100, 101]
    line = "{'user_id': '1', 'product_id': '2', 'date': '2017-01-01', 'text': 'a\u2028b\x0cc'}"
    path = write(tmp_path / "s.json.gz", line + "\n" + line.replace("'2'", "'3'") + "\nnot a literal\n", gz=True)
    raises_line(loaders.load_steam, path, 3)

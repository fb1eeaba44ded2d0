"""MovieLens download against a local 127.0.0.1 HTTP server: checksum OK, mismatch, 404, unsafe archive."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

import ssr_neuro.data.download as download
from ssr_neuro.data import load_dataset
from ssr_neuro.data.download import ARCHIVES, Archive, download_movielens
from ssr_neuro.errors import DataError

UDATA = "".join(f"{u}\t{i}\t3\t{1000 * u + i}\n" for u in range(1, 8) for i in range(1, 8))


def make_zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buffer.getvalue()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - silence the test output
        pass


@pytest.fixture
def server(tmp_path, monkeypatch):
    """(base URL, served folder) of a threaded HTTP server on 127.0.0.1 (no proxy, no internet)."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/movielens/", served
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def serve(served: Path, name: str, data: bytes) -> str:
    (served / "movielens").mkdir(exist_ok=True)
    (served / "movielens" / name).write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def test_checksum_ok_extracts_atomically(server, tmp_path):
    url, served = server
    digest = serve(served, "ml-100k.zip", make_zip({"ml-100k/u.data": UDATA, "ml-100k/README": "hi"}))
    dest = tmp_path / "dest"
    path = download_movielens("ml-100k", dest, base_url=url, sha256=digest)
    assert path == dest / "ml-100k" / "u.data" and path.read_text() == UDATA
    assert sorted(p.name for p in dest.iterdir()) == ["ml-100k"]  # no temp file or folder left
    # already there: no second download (the server no longer has it)
    (served / "movielens" / "ml-100k.zip").unlink()
    assert download_movielens("ml-100k", dest, base_url=url, sha256=digest) == path


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    url, served = server
    serve(served, "ml-1m.zip", make_zip({"ml-1m/ratings.dat": "1::2::3::4\n"}))
    dest = tmp_path / "dest"
    with pytest.raises(DataError) as info:
        download_movielens("ml-1m", dest, base_url=url)  # the real GroupLens checksum: cannot match
    message = str(info.value)
    assert "checksum mismatch" in message and ARCHIVES["ml-1m"].sha256 in message and "\n" not in message
    assert not dest.exists()
    existing = tmp_path / "existing"
    existing.mkdir()
    with pytest.raises(DataError, match="checksum mismatch"):
        download_movielens("ml-1m", existing, base_url=url, sha256="0" * 64)
    assert list(existing.iterdir()) == []


def test_http_error_and_unsafe_archive(server, tmp_path):
    url, served = server
    with pytest.raises(DataError, match="HTTP 404"):
        download_movielens("ml-100k", tmp_path / "a", base_url=url, sha256="0" * 64)
    assert not (tmp_path / "a").exists()
    digest = serve(served, "ml-100k.zip", make_zip({"ml-100k/u.data": UDATA, "../evil.txt": "x"}))
    with pytest.raises(DataError, match="unsafe path"):
        download_movielens("ml-100k", tmp_path / "b", base_url=url, sha256=digest)
    assert not (tmp_path / "b").exists() and not (tmp_path / "evil.txt").exists()
    digest = serve(served, "ml-100k.zip", make_zip({"other/u.data": UDATA}))
    with pytest.raises(DataError, match="no ml-100k/u.data"):
        download_movielens("ml-100k", tmp_path / "c", base_url=url, sha256=digest)
    assert not (tmp_path / "c").exists()
    with pytest.raises(DataError, match="no download for"):
        download_movielens("ml-25m", tmp_path / "d")


def test_load_dataset_downloads_when_asked(server, tmp_path, monkeypatch):
    url, served = server
    digest = serve(served, "ml-100k.zip", make_zip({"ml-100k/u.data": UDATA}))
    monkeypatch.setitem(ARCHIVES, "ml-100k", Archive("ml-100k.zip", "ml-100k", "u.data", digest, ""))
    monkeypatch.setattr(download, "DEFAULT_BASE_URL", url)
    monkeypatch.setenv("SSR_NEURO_HOME", str(tmp_path / "home"))
    data = tmp_path / "data"
    with pytest.raises(DataError, match="--download"):
        load_dataset("ml-100k", data_dir=data, cache_dir=tmp_path / "c")
    ds = load_dataset("ml-100k", data_dir=data, cache_dir=tmp_path / "c", download=True, k_core=0)
    assert (data / "ml-100k" / "u.data").is_file()
    assert ds.n_users == 7 and ds.n_items == 7 and ds.n_interactions == 49

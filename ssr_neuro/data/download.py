"""Download of the public MovieLens archives into a local folder, checksum-verified and extracted atomically.

The archive is streamed to a temporary file next to its destination, its SHA-256 is compared with the table below,
and only then is it extracted, into a temporary folder that is moved into place with :func:`os.replace`. A failed
download or a checksum mismatch raises :class:`~ssr_neuro.errors.DataError` and leaves nothing behind.

Checksums (:data:`ARCHIVES`): the SHA-256 and MD5 values of ``ml-100k.zip`` and ``ml-1m.zip`` are the ones GroupLens'
archives are widely pinned to; each value was found identically in several independent public projects (GroupLens
itself publishes ``<archive>.md5`` files next to the archives). They were NOT re-computed here from a fresh download
(no network in development). The SHA-256 of ``u.data`` inside ml-100k (``06416e59...``), published alongside, does
match the copy of ``u.data`` the project tests against.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ssr_neuro.errors import DataError

DEFAULT_BASE_URL = "https://files.grouplens.org/datasets/movielens/"


@dataclass(frozen=True)
class Archive:
    """A downloadable MovieLens archive."""

    filename: str  # name under the base URL
    folder: str  # top-level folder inside the zip, and under the destination
    member: str  # the ratings file inside ``folder``
    sha256: str
    md5: str  # informational (GroupLens publishes <archive>.md5); SHA-256 is what is checked


ARCHIVES: dict[str, Archive] = {
    "ml-100k": Archive(
        filename="ml-100k.zip",
        folder="ml-100k",
        member="u.data",
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        md5="0e33842e24a9c977be4e0107933c0723",
    ),
    "ml-1m": Archive(
        filename="ml-1m.zip",
        folder="ml-1m",
        member="ratings.dat",
        sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        md5="c4d9eecfca2ab87c1945afe126590906",
    ),
}


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _fetch(url: str, dest: Path, timeout: float, quiet: bool) -> str:
    """Stream ``url`` into ``dest``; return the SHA-256 hex digest of what was written."""
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:
            total = 0
            while True:
                chunk = response.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                total += len(chunk)
                if not quiet:
                    print(f"\rdownloading {url}: {total / 1e6:.1f} MB", end="", file=sys.stderr)
            if not quiet:
                print(file=sys.stderr)
    except urllib.error.HTTPError as exc:
        raise DataError(f"download of {url} failed: HTTP {exc.code} {exc.reason}; check the URL or fetch it by hand and use --data-dir DIR") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(f"download of {url} failed ({reason}); check the network, or fetch it by hand and use --data-dir DIR") from None
    return digest.hexdigest()


def _safe_extract(archive: Path, into: Path) -> None:
    """Extract a zip, refusing absolute paths, '..' and links that would land outside ``into``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if name.is_absolute() or ".." in name.parts or ":" in info.filename or "\\" in info.filename:
                    raise DataError(f"{archive.name}: unsafe path {info.filename!r} in the archive; do not use this file")
                mode = (info.external_attr >> 16) & 0o170000
                if mode == 0o120000:  # symlink
                    raise DataError(f"{archive.name}: the archive holds a link ({info.filename!r}); do not use this file")
            zf.extractall(into)
    except zipfile.BadZipFile as exc:
        raise DataError(f"{archive.name}: not a valid zip archive ({exc}); download it again") from None


def download_movielens(
    name: str,
    dest_dir: Path,
    *,
    base_url: str | None = None,
    sha256: str | None = None,
    timeout: float = 60.0,
    quiet: bool = True,
) -> Path:
    """Download and extract MovieLens ``name`` ("ml-100k" or "ml-1m") into ``dest_dir/<name>/``.

    Returns the path of the ratings file (``u.data`` or ``ratings.dat``). Does nothing when it is already there.
    ``base_url`` replaces the GroupLens address (the archive is ``base_url + filename``; default: the environment
    variable ``SSR_NEURO_MOVIELENS_URL``, else :data:`DEFAULT_BASE_URL`); ``sha256`` replaces the expected checksum
    (for tests and mirrors).
    """
    if name not in ARCHIVES:
        raise DataError(f"no download for {name!r}; downloadable: {', '.join(ARCHIVES)}")
    spec = ARCHIVES[name]
    dest_dir = Path(dest_dir).expanduser()
    final = dest_dir / spec.folder
    target = final / spec.member
    if target.is_file():
        return target
    expected = (sha256 or spec.sha256).lower()
    base_url = base_url or os.environ.get("SSR_NEURO_MOVIELENS_URL", "").strip() or DEFAULT_BASE_URL
    url = base_url.rstrip("/") + "/" + spec.filename
    created = not dest_dir.exists()
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create {dest_dir} ({exc.strerror or exc}); choose another folder with --data-dir DIR") from None

    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{spec.filename}.", suffix=".part")
    os.close(fd)
    tmp_zip = Path(tmp_name)
    tmp_dir: Path | None = None
    try:
        got = _fetch(url, tmp_zip, timeout, quiet)
        if got != expected:
            raise DataError(
                f"checksum mismatch for {url}: expected sha256 {expected}, got {got}; the download is damaged or the "
                "archive changed: retry, or fetch and check it by hand and use --data-dir DIR"
            )
        tmp_dir = Path(tempfile.mkdtemp(dir=dest_dir, prefix=f".{spec.folder}.extract-"))
        _safe_extract(tmp_zip, tmp_dir)
        extracted = tmp_dir / spec.folder
        if not (extracted / spec.member).is_file():
            raise DataError(f"{spec.filename} has no {spec.folder}/{spec.member}; the archive is not the expected one")
        if final.exists():  # an incomplete earlier copy (the ratings file is missing): move it aside, then replace
            aside = Path(tempfile.mkdtemp(dir=dest_dir, prefix=f".{spec.folder}.old-"))
            os.replace(final, aside / spec.folder)
            _remove(aside)
        os.replace(extracted, final)
    except BaseException:
        _remove(tmp_zip)
        if tmp_dir is not None:
            _remove(tmp_dir)
        if created:  # leave nothing behind, not even the folder we made
            try:
                dest_dir.rmdir()
            except OSError:
                pass
        raise
    _remove(tmp_zip)
    _remove(tmp_dir)
    return target

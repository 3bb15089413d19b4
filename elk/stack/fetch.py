"""Fetch Elasticsearch's distribution from Maven Central into the cache, verified, once."""

from __future__ import annotations

import hashlib
import shutil
import stat
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from elk import versions
from elk.stack.layout import Layout
from elk.stack.locking import file_lock
from elk.stack.progress import Reporter, Throttled

_CHUNK = 1 << 20
_HTTP_TIMEOUT_S = 60.0
_LOCK_TIMEOUT_S = 1800.0


class FetchError(RuntimeError):
    """The artifact could not be downloaded or failed verification."""


def artifact_url(suffix: str = "") -> str:
    """Maven Central URL of the pinned Elasticsearch zip (or of its `.sha512` etc.)."""
    group = versions.ELASTICSEARCH_GROUP.replace(".", "/")
    name = versions.ELASTICSEARCH_ARTIFACT
    version = versions.ELASTICSEARCH_VERSION
    return f"{versions.MAVEN_REPOSITORY_URL}/{group}/{name}/{version}/{name}-{version}.zip{suffix}"


def _download(url: str, target: Path, report: Reporter) -> str:
    """Stream `url` into `target`; returns the SHA-512 hex digest of what was written."""
    digest = hashlib.sha512()
    throttled = Throttled(report)
    try:
        with urllib.request.urlopen(url, timeout=_HTTP_TIMEOUT_S) as response:  # noqa: S310
            total = int(response.headers.get("Content-Length") or 0)
            done = 0
            with target.open("wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    throttled(f"  {done >> 20} / {total >> 20} MiB", final=done == total)
    except OSError as exc:
        raise FetchError(f"download of {url} failed: {exc}") from exc
    return digest.hexdigest()


def _published_sha512() -> str:
    try:
        with urllib.request.urlopen(artifact_url(".sha512"), timeout=_HTTP_TIMEOUT_S) as resp:  # noqa: S310
            return str(resp.read().decode("ascii").split()[0]).lower()
    except (OSError, IndexError, UnicodeDecodeError) as exc:
        raise FetchError(f"could not read the published SHA-512: {exc}") from exc


def _extract(archive: Path, into: Path) -> Path:
    """Unzip keeping the executable bits (zipfile drops them); returns the top directory."""
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            path = Path(zipped.extract(info, into))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                path.chmod(mode | stat.S_IRUSR)
    tops = [child for child in into.iterdir() if child.is_dir()]
    if len(tops) != 1:
        raise FetchError(f"unexpected layout in {archive.name}: {[t.name for t in tops]}")
    return tops[0]


def ensure_elasticsearch(layout: Layout, report: Reporter) -> Path:
    """Return the Elasticsearch home in the cache, downloading and unpacking it if missing.

    The zip's SHA-512 must equal both the value pinned in elk.versions and the one Maven
    publishes beside it. Safe to call concurrently: one process fetches, the others wait.
    """
    home = layout.es_home
    if (home / "bin" / "elasticsearch").exists():
        return home
    with file_lock(layout.locks_dir / "elasticsearch.lock", _LOCK_TIMEOUT_S, report):
        if (home / "bin" / "elasticsearch").exists():
            return home
        layout.downloads_dir.mkdir(parents=True, exist_ok=True)
        archive = layout.downloads_dir / f"elasticsearch-{versions.ELASTICSEARCH_VERSION}.zip"
        report(f"elasticsearch: downloading {artifact_url()}")
        partial = archive.with_suffix(".zip.part")
        actual = _download(artifact_url(), partial, report)
        expected = {versions.ELASTICSEARCH_SHA512, _published_sha512()}
        if expected != {actual}:
            partial.unlink(missing_ok=True)
            raise FetchError(f"SHA-512 mismatch for {archive.name}: got {actual[:16]}...")
        partial.replace(archive)
        report("elasticsearch: SHA-512 verified, unpacking")
        with tempfile.TemporaryDirectory(dir=layout.cache_dir, prefix=".unpack-") as scratch:
            top = _extract(archive, Path(scratch))
            top.replace(home)
        # The unpacked home is what the cache keeps; the zip would only double its size.
        archive.unlink()
        shutil.rmtree(home / "logs", ignore_errors=True)
        report(f"elasticsearch: ready in {home}")
    return home

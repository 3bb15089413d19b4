"""Tests of elk.stack.fetch: the Maven URL and an unpack that keeps executables executable."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

from elk import versions
from elk.stack import fetch


def test_artifact_url_is_the_maven_central_path_of_the_pinned_zip() -> None:
    """The URL follows Maven's group/artifact/version layout; suffixes address checksums."""
    url = fetch.artifact_url(".sha512")
    assert url.startswith(versions.MAVEN_REPOSITORY_URL + "/org/elasticsearch/distribution/")
    assert url.endswith(
        f"/{versions.ELASTICSEARCH_VERSION}/elasticsearch-"
        f"{versions.ELASTICSEARCH_VERSION}.zip.sha512"
    )


def test_extract_keeps_the_executable_bit(tmp_path: Path) -> None:
    """bin/ scripts stay executable after unzipping (zipfile alone would drop the mode)."""
    archive = tmp_path / "dist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        script = zipfile.ZipInfo("es-1/bin/run")
        script.external_attr = (stat.S_IFREG | 0o755) << 16
        zipped.writestr(script, "#!/bin/sh\n")
        zipped.writestr("es-1/README", "hi")
    out = tmp_path / "out"
    out.mkdir()
    top = fetch._extract(archive, out)
    assert top == out / "es-1"
    assert os.access(top / "bin" / "run", os.X_OK)
    assert (top / "README").read_text() == "hi"

"""Find a JDK that can run the pinned Elasticsearch (the zip ships none)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

# Where Debian, Temurin packages and most distributions put their JDKs.
_JVM_ROOTS = (Path("/usr/lib/jvm"), Path("/usr/java"), Path("/opt/java"))
_VERSION_RE = re.compile(r'^JAVA_VERSION="(\d+)(?:[.\-+"]|$)', re.MULTILINE)


class JavaNotFoundError(RuntimeError):
    """No JDK of the required feature release was found."""


@dataclass(frozen=True)
class Jdk:
    """A JDK home and its feature release (17, 21, 25, ...)."""

    home: Path
    feature: int


def jdk_feature(home: Path) -> int | None:
    """Feature release of the JDK at `home`, read from its `release` file; None if not a JDK."""
    try:
        text = (home / "release").read_text(encoding="utf-8")
    except OSError:
        return None
    match = _VERSION_RE.search(text)
    if match is None or not (home / "bin" / "java").exists():
        return None
    return int(match.group(1))


def _environment_homes() -> list[Path]:
    names = ("ES_JAVA_HOME", "JAVA_HOME")
    return [Path(value) for name in names if (value := os.environ.get(name))]


def _installed_homes() -> list[Path]:
    return [
        child
        for root in _JVM_ROOTS
        if root.is_dir()
        for child in sorted(root.iterdir())
        if child.is_dir()
    ]


def find_jdk(min_feature: int, explicit: Path | None = None) -> Jdk:
    """Return the JDK to run Elasticsearch with.

    An explicit home (AMF1_JAVA_HOME) must qualify or this fails; otherwise ES_JAVA_HOME, then
    JAVA_HOME when new enough, else the newest JDK under /usr/lib/jvm and friends.
    Raises JavaNotFoundError naming what was looked at.
    """
    if explicit is not None:
        feature = jdk_feature(explicit)
        if feature is None or feature < min_feature:
            raise JavaNotFoundError(f"AMF1_JAVA_HOME={explicit} is not a JDK {min_feature}+")
        return Jdk(explicit, feature)
    seen: list[str] = []
    for home in _environment_homes():
        feature = jdk_feature(home)
        seen.append(f"{home} ({feature or 'not a JDK'})")
        if feature is not None and feature >= min_feature:
            return Jdk(home, feature)
    installed = [
        Jdk(home, feature) for home in _installed_homes() if (feature := jdk_feature(home))
    ]
    seen.extend(f"{jdk.home} ({jdk.feature})" for jdk in installed)
    usable = [jdk for jdk in installed if jdk.feature >= min_feature]
    if usable:
        return max(usable, key=lambda jdk: jdk.feature)
    raise JavaNotFoundError(f"need a JDK {min_feature}+; looked at: {', '.join(seen) or 'nothing'}")

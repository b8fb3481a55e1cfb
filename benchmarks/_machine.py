"""Facts about the machine a benchmark ran on, without importing any numeric library.

(``run_all.py``'s parent process imports nothing numeric, so that no thread
pool starts before the children's thread variables are set.)
"""

from __future__ import annotations

import platform


def cpu_model() -> str:
    """CPU model name from /proc/cpuinfo (or platform.processor())."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_versions(names) -> dict[str, str]:
    """Installed versions of the named distributions (``"absent"`` if missing)."""
    from importlib import metadata

    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions

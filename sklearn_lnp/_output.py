"""The output folder of one run of the ``sklearn-lnp`` command, written atomically.

A run writes its figures and ``summary.json`` into a hidden temporary folder
beside its target (``.<name>.partial-XXXX`` in ``--out``) and renames it to
the target only at the end, so the target holds either nothing new or one
complete run.  When the run fails or is interrupted (Ctrl-C), the temporary
folder is removed, and so are the folders the run made for it.

The target must not exist, unless ``--overwrite`` is given and it is a folder
this command wrote before: its ``summary.json`` lists every other file in it,
and it holds the results of the same recording.  Nothing else is ever
replaced or deleted.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

SUMMARY = "summary.json"


class OutputError(ValueError):
    """The output folder cannot be written as asked (a user error)."""


def _earlier_run(target: Path) -> dict | None:
    """The summary of a folder this command wrote, or None if it is anything else."""
    try:
        summary = json.loads((target / SUMMARY).read_text())
        names = {SUMMARY, *summary["figures"]}
        return summary if {p.name for p in target.iterdir()} <= names else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _same_file(a, b) -> bool:
    """Whether paths ``a`` and ``b`` name the same file."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, RuntimeError):  # pragma: no cover - unresolvable paths
        return False


class RunFolder:
    """``target`` written atomically: :meth:`check` first, then ``with``, :meth:`commit`.

    Parameters
    ----------
    target : Path
        The folder of the run's results.
    overwrite : bool
        Replace ``target`` if it holds an earlier run of the same recording.
    recording : path-like, optional
        The recording of the run (``None`` for the demo).
    """

    def __init__(self, target: Path, *, overwrite: bool = False, recording=None):
        self.target = Path(target)
        self.overwrite = overwrite
        self.recording = recording
        self._partial: Path | None = None
        self._made: list[Path] = []

    def check(self) -> None:
        """Raise :class:`OutputError` (naming ``--out``) if the run may not write ``target``."""
        for folder in self.target.parents:
            if folder.exists():
                if not folder.is_dir():
                    raise OutputError(
                        f"--out: {folder} is a file, not a folder; choose another --out"
                    )
                break
        if not self.target.exists() and not self.target.is_symlink():
            return
        if not self.overwrite:
            raise OutputError(
                f"--out: {self.target} already exists; choose another --out, or pass "
                "--overwrite to replace the results of an earlier run"
            )
        earlier = _earlier_run(self.target) if self.target.is_dir() else None
        if earlier is None:
            raise OutputError(
                f"--out: {self.target} is not a folder of results of sklearn-lnp (its "
                f"{SUMMARY} does not list every file in it), so --overwrite does not replace "
                "it; choose another --out"
            )
        recorded = earlier.get("recording")
        same = recorded is None if self.recording is None else _same_file(recorded, self.recording)
        if not same:
            what = f"the recording {recorded}" if recorded else "the demo"
            raise OutputError(
                f"--out: {self.target} holds the results of {what}, not of this run's; choose "
                "another --out"
            )

    @property
    def path(self) -> Path:
        """The temporary folder the run writes to, made on first use."""
        if self._partial is None:
            missing = [p for p in (*reversed(self.target.parents),) if not p.exists()]
            self.target.parent.mkdir(parents=True, exist_ok=True)
            self._made = missing
            name = f".{self.target.name}.partial-"
            self._partial = Path(tempfile.mkdtemp(prefix=name, dir=self.target.parent))
        return self._partial

    def commit(self) -> Path:
        """Move the finished run to ``target`` (replacing an earlier run); return it."""
        self.check()  # the target may have appeared while the run was working
        partial, old = self.path, None
        if self.target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.old-", dir=partial.parent))
            self.target.rename(old / self.target.name)
        partial.rename(self.target)
        self._partial, self._made = None, []
        if old is not None:
            shutil.rmtree(old)
        return self.target

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc_info) -> None:
        """Remove an unfinished run, and the folders made for it (when still empty)."""
        if self._partial is not None:
            shutil.rmtree(self._partial, ignore_errors=True)
            self._partial = None
        for folder in reversed(self._made):
            try:
                folder.rmdir()
            except OSError:
                break

"""Git work started now and read later, so git runs while the caller works.

A whole-registry `validate` lists every symbolic link and submodule below models/ (at
1000x100 `ls-tree -r` walks 100,000 trees: about 0.6 s of git, 27 MB of output) while the
models are checked, instead of before. The output goes to an unnamed temporary file, so
git never waits on a pipe that nobody reads; a caller that never asks (an error on the
way) stops git by `close` or by leaving the `with` block.
"""

from __future__ import annotations

import subprocess
import tempfile

from gitreg.store.git import spawn
from gitreg.store.snapshot import Snapshot, links_in


class PendingLinks:
    """`snap.links_below(paths)`, its git started at construction."""

    def __init__(self, snap: Snapshot, paths: list[str]) -> None:
        self.snap, self.paths = snap, paths
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by `close`
        try:
            self._proc = spawn(
                snap.git.cwd,
                snap.links_command(paths),
                stdin=subprocess.DEVNULL,
                stdout=self._out,
                stderr=subprocess.DEVNULL,
            )
        except BaseException:
            self._out.close()
            raise

    def result(self) -> list[tuple[str, str]]:
        """What `links_below` answers: on a failure of git, `links_below` itself is run,
        which raises git's error as ever."""
        if self._proc.wait() != 0:
            return self.snap.links_below(self.paths)
        self._out.seek(0)
        return links_in(self._out.read())

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._out.close()

    def __enter__(self) -> PendingLinks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

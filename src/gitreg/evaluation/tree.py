"""The tree an evaluation runs in, and the identity of its data set.

Both `gitreg evaluate` (which runs the evaluator in the tree) and `gitreg card` (which only
computes the key of a stored result) need the files of the policy's commit and the md5 of
its data set: this is their one home. Everything comes from git objects (`git archive`),
never the working tree.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Sequence
from pathlib import Path

from gitreg.errors import ManifestError, RegistryError
from gitreg.model import layout
from gitreg.model.dvcfile import dvc_pointer
from gitreg.store.git import Git


def export_tree(git: Git, commit: str, dest: Path, paths: Sequence[str] | None = None) -> None:
    """The files of `commit` in `dest`, from git objects (git archive), not a checkout;
    with `paths`, only those (each must exist at `commit`).

    A tree is a PR's: a link that is absolute or climbs out of the tree is refused (exit 3)
    before anything is written, whatever the Python's tarfile filters can do.
    """
    dest.mkdir(parents=True)
    if paths is not None and not paths:
        return
    # git archive takes no "--" after --end-of-options: the paths follow the tree-ish,
    # each a literal pathspec (so none can read as an option or a glob)
    only = [f":(literal){p}" for p in paths] if paths is not None else []
    data = git.run_bytes(["archive", "--format=tar", "--end-of-options", commit, *only])
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            target = posixpath.normpath(
                posixpath.join(posixpath.dirname(member.name), member.linkname)
            )
            leaves = member.issym() and (
                member.linkname.startswith("/") or target.split("/")[0] == ".."
            )
            if leaves or member.islnk() or not layout.is_repo_path(member.name.rstrip("/")):
                raise RegistryError(
                    f"the tree at {commit[:12]} holds {member.name!r}, a link or path that "
                    "leaves it: refused, nothing was evaluated",
                    "remove the link from the pull request",
                )
        try:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(dest, filter="data")
            else:  # pragma: no cover - Python without the extraction filters
                tar.extractall(dest)  # every member was checked above
        except tarfile.TarError as e:
            raise RegistryError(f"the tree at {commit[:12]} cannot be exported: {e}") from e


def dataset_id(git: Git, dataset: str, policy: tuple[str, str], tree: Path) -> tuple[bool, str]:
    """Whether the data set is DVC-tracked, and its md5 (else its git object id), in the
    tree of `policy` (commit, label) exported to `tree`."""
    pointer = tree / (dataset + ".dvc")
    if pointer.is_file():
        try:
            return True, dvc_pointer(pointer.read_bytes(), dataset + ".dvc")[0]
        except ManifestError as e:
            raise RegistryError(f"evaluation.dataset: {e}") from e
    blob = git.blob_at(policy[0], dataset) if (tree / dataset).exists() else None
    if blob is None:
        raise RegistryError(
            f"evaluation.dataset {dataset}: neither {dataset}.dvc nor {dataset} is in the "
            f"registry at {policy[1]}",
            "track the held-out data with `dvc add` and commit its .dvc pointer",
        )
    return False, blob

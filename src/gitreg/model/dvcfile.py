"""`.dvc` pointer files: the md5 and size of their one output (pure: bytes in)."""

from __future__ import annotations

from gitreg.errors import ManifestError
from gitreg.model import yamlio
from gitreg.model.layout import MD5_RE


def dvc_pointer(data: bytes, path: str) -> tuple[str, int | None]:
    """md5 and size of the single output of a `.dvc` file."""
    return pointer_output(yamlio.load(data, path), path)


def pointer_output(obj: object, path: str) -> tuple[str, int | None]:
    """`dvc_pointer` of a `.dvc` file already parsed (by `yamlio.load`)."""
    outs = obj.get("outs") if isinstance(obj, dict) else None
    if not isinstance(outs, list) or len(outs) != 1 or not isinstance(outs[0], dict):
        raise ManifestError.single(path, "outs", "expected exactly one output in the .dvc file")
    md5 = outs[0].get("md5")
    size = outs[0].get("size")
    if not isinstance(md5, str) or not MD5_RE.match(md5):
        raise ManifestError.single(path, "outs[0].md5", "missing or not an md5 hash")
    if size is not None and not isinstance(size, int):
        raise ManifestError.single(path, "outs[0].size", "must be an integer")
    return md5, size

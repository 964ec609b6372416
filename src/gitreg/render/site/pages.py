"""Every page of the site, each with the key of its inputs, and the site's summary text.

A page's key joins what it is made from (blob ids, tag ids; see `SiteData.key`) with a
fingerprint of this renderer's own code and assets, so a new gitreg rewrites every page
and an unchanged input never does.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources

from gitreg.ops.site import Page, SiteData, SiteResult
from gitreg.render.site import index, modelpage, versionpage

ASSETS = ("site.css", "filter.js", "site.js")
_CODE = ("chart.py", "html.py", "index.py", "modelpage.py", "pages.py", "versionpage.py")


def asset(name: str) -> bytes:
    return resources.files("gitreg.render.site").joinpath("assets").joinpath(name).read_bytes()


@functools.cache
def fingerprint() -> str:
    """A hash of the renderer's code and assets: part of every page's key."""
    pkg = resources.files("gitreg.render.site")
    h = hashlib.sha1()
    for name in _CODE:
        h.update(pkg.joinpath(name).read_bytes())
    # the verdict cells of a stored evaluation report are the gate's own (render/gate.py)
    h.update(resources.files("gitreg.render").joinpath("gate.py").read_bytes())
    for name in ASSETS:
        h.update(asset(name))
    return h.hexdigest()


def pages(data: SiteData) -> dict[str, Page]:
    """Relative path -> page, for the whole site."""
    fp = fingerprint()
    out: dict[str, Page] = {}
    for name in ASSETS:
        key = hashlib.sha1(asset(name)).hexdigest()
        out[f"assets/{name}"] = Page(key, functools.partial(asset, name))
    out[".nojekyll"] = Page("empty", lambda: b"")
    out["index.html"] = Page(
        data.key(fp, "index", data.ref, data.commit, *(m.inputs for m in data.models)),
        lambda: index.render(data),
    )
    for m in data.models:
        name = m.name
        out[f"models/{name}/index.html"] = Page(
            data.key(fp, "model", m.inputs), functools.partial(modelpage.render, m, data)
        )
        for v in m.versions:
            evaluated = v.evaluation.digest if v.evaluation else ""
            key = data.key(
                fp, "version", name, v.blob, ",".join(v.stages), v.registered_at or "", evaluated
            )
            out[f"models/{name}/{v.version}.html"] = Page(
                key, functools.partial(versionpage.render, m, v, data)
            )
    return out


def summary(result: SiteResult) -> str:
    """What `gitreg site` prints."""
    removed = f", {len(result.removed)} removed" if result.removed else ""
    return (
        f"site: {result.models} models, {result.versions} versions; "
        f"{len(result.written)} files written, {result.unchanged} unchanged{removed}\n"
        f"open {result.index}"
    )

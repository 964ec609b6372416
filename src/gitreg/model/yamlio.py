"""The one YAML loader for every manifest, and the dumpers.

Loading is safe (no Python tags), rejects duplicate keys, files over 1 MiB and documents
whose aliases would expand past a bound (the "billion laughs"). Every error names the file.
Dumping writes plain block YAML in the key order given; `stages.yaml` edits go through the
round-trip functions so comments and order survive a promotion.
"""

from __future__ import annotations

import io
import re

from gitreg.errors import ManifestError

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    import yaml
    from yaml.nodes import MappingNode, Node

MAX_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 100_000
# the fast path (model/fastyaml.py) from this many loads in a process on: it saves ~0.3 ms
# a document but its import (yaml_rs, its patterns) costs ~10 ms, which a command reading
# a few files (resolve) would pay for nothing; before it, plain block YAML is read by
# model/blockyaml.py, which imports nothing (PyYAML's import costs ~12 ms)
FAST_AFTER = 8
_LOADS = [0]
_LOADER: list[type[yaml.SafeLoader]] = []


def _strict_loader() -> type[yaml.SafeLoader]:
    """SafeLoader that refuses duplicate keys, on LibYAML's parser when PyYAML was built
    with it (about 10x faster); the constructor, where safety and the duplicate-key check
    live, is the same Python code either way. Made on first use: PyYAML loads only then."""
    if not _LOADER:
        import yaml

        base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class _StrictLoader(base):  # type: ignore[valid-type, misc]
            def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
                seen: dict[Any, int] = {}
                for key_node, _ in node.value:
                    key = self.construct_object(key_node, deep=True)
                    try:
                        hash(key)
                    except TypeError:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            "found an unhashable key",
                            key_node.start_mark,
                        ) from None
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            "while constructing a mapping",
                            node.start_mark,
                            f"found duplicate key {key!r} (first on line {seen[key] + 1})",
                            key_node.start_mark,
                        )
                    seen[key] = key_node.start_mark.line
                mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
                return mapping

        _LOADER.append(_StrictLoader)
    return _LOADER[0]


MAX_DEPTH = 64


def _children(node: Node) -> list[Node]:
    from yaml.nodes import MappingNode, SequenceNode

    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _shape_problem(root: Node) -> str | None:
    """Why a composed document is too big, too deep or recursive (iterative, linear)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    state: dict[int, int] = {}  # 1 = on the stack, 2 = done
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        key = id(node)
        if leaving:
            kids = _children(node)
            size[key] = min(1 + sum(size[id(k)] for k in kids), MAX_EXPANDED_NODES + 1)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            state[key] = 2
            continue
        if state.get(key) == 2:
            continue
        if state.get(key) == 1:
            return "YAML aliases refer to themselves (recursive document)"
        state[key] = 1
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if state.get(id(k)) != 2)
        for k in _children(node):
            if state.get(id(k)) == 1:
                return "YAML aliases refer to themselves (recursive document)"
    if size[id(root)] > MAX_EXPANDED_NODES:
        return f"YAML aliases expand too far (more than {MAX_EXPANDED_NODES} nodes)"
    if depth[id(root)] > MAX_DEPTH:
        return f"YAML nesting is deeper than {MAX_DEPTH} levels"
    return None


def _tree_problem(root: Node) -> str | None:
    """`_shape_problem` for a document without anchors: no node can be reached twice, so
    the nodes form a tree and one walk counts them and their depth (several times faster,
    and most manifests have no anchor)."""
    from yaml.nodes import MappingNode, SequenceNode

    count, deepest = 0, 0
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, SequenceNode):
            stack.extend((child, depth + 1) for child in node.value)
    if count > MAX_EXPANDED_NODES:
        return f"YAML aliases expand too far (more than {MAX_EXPANDED_NODES} nodes)"
    if deepest > MAX_DEPTH:
        return f"YAML nesting is deeper than {MAX_DEPTH} levels"
    return None


def load(data: bytes | str, path: str) -> Any:
    """Parse one YAML document safely. `path` is only used in error messages."""
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise ManifestError.single(
            path, "", f"file is {len(raw)} bytes; manifests may be at most {MAX_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        msg = f"not UTF-8 text ({e.reason} at byte {e.start})"
        raise ManifestError.single(path, "", msg) from None
    _LOADS[0] += 1
    if _LOADS[0] > FAST_AFTER:  # the Rust loader, only where it means what PyYAML means
        from gitreg.model import fastyaml

        fast, value = fastyaml.fast_load(text, MAX_DEPTH, MAX_EXPANDED_NODES)
    else:  # plain block YAML, only where it means what PyYAML means
        from gitreg.model import blockyaml

        fast, value = blockyaml.load(text)
    if fast:
        return value
    return load_pyyaml(text, path)


def expect(datas: list[bytes]) -> None:
    """Documents about to be `load`ed (a model's manifests): the fast path checks their
    text in one pass instead of one per document. Only an optimisation: `load` decides."""
    texts = []
    for data in datas:
        if len(data) <= MAX_BYTES:
            try:
                texts.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                continue
    if len(texts) >= 2:
        from gitreg.model import fastyaml

        fastyaml.clear(texts)


def load_many(datas: list[bytes], paths: list[str]) -> list[Any]:
    """`load` of each document (a model's manifests): its value, or the `ManifestError`
    `load` raises for it; their text is checked for the fast path in one pass (`expect`)."""
    expect(datas)
    out: list[Any] = []
    for data, path in zip(datas, paths):
        try:
            out.append(load(data, path))
        except ManifestError as e:
            out.append(kept(e))
    return out


def kept(error: ManifestError) -> ManifestError:
    """`error`, to be kept as a value: without its traceback and the error it replaced,
    which tie it to frames in a cycle that only the cyclic collector frees (and that is
    paused while `parallel` work runs)."""
    error.__traceback__ = None
    error.__context__ = None
    return error


def load_pyyaml(text: str, path: str) -> Any:
    """`load` by PyYAML alone (the reference the fast paths are tested against)."""
    import yaml

    loader: yaml.SafeLoader | None = None
    try:
        loader = _strict_loader()(io.StringIO(text))
        node = loader.get_single_node()
        if node is None:
            return None
        # an alias needs an anchor (`&`): without one, the cheaper walk is exact
        problem = _shape_problem(node) if "&" in text else _tree_problem(node)
        if problem:
            raise ManifestError.single(path, "", problem)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(s for s in (e.context, e.problem) if s)
        raise ManifestError.single(path, "", f"invalid YAML: {where}{what}") from None
    except yaml.YAMLError as e:
        raise ManifestError.single(path, "", f"invalid YAML: {e}") from None
    except RecursionError:
        raise ManifestError.single(
            path, "", f"YAML nesting is deeper than {MAX_DEPTH} levels"
        ) from None
    except (ValueError, TypeError, OverflowError, AttributeError, KeyError, IndexError) as e:
        # PyYAML's constructors raise these for values that parse but cannot exist
        # (2026-13-02, `!!int abc`, `!!timestamp x` raises AttributeError, ...)
        raise ManifestError.single(path, "", f"invalid YAML value: {e}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _step(node: Node, part: str) -> Node | None:
    """The child of `node` that one part of a field path (`key` or `[3]`) names."""
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return key if isinstance(value, ScalarNode) else value
        return None
    if isinstance(node, SequenceNode) and part.startswith("["):
        index = int(part[1:-1])
        return node.value[index] if index < len(node.value) else None
    return None


def field_line(data: bytes | None, field: str) -> int | None:
    """The 1-based line of `field` (`a.b[0].c`, as problems name fields) in a YAML file, or
    of the deepest part of it that is there; None if there is no such line to show."""
    return field_lines(data, [field])[field]


def field_lines(data: bytes | None, fields: Iterable[str]) -> dict[str, int | None]:
    """`field_line` of each field, the file parsed once."""
    wanted = list(fields)
    lines: dict[str, int | None] = dict.fromkeys(wanted)
    if data is None or not any(wanted) or len(data) > MAX_BYTES:
        return lines
    import yaml

    loader: yaml.SafeLoader | None = None
    try:
        loader = _strict_loader()(io.StringIO(data.decode("utf-8")))
        root = loader.get_single_node()
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        return lines
    finally:
        if loader is not None:
            loader.dispose()
    for field in filter(None, wanted):
        node, line = root, None
        for part in re.findall(r"\[\d+\]|[^.\[\]]+", field):
            child = _step(node, part) if node is not None else None
            if child is None:
                break
            node, line = child, child.start_mark.line + 1
        lines[field] = line
    return lines


def dump(data: Any) -> str:
    """Block-style YAML in the given key order, unicode kept as is."""
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def roundtrip_set_in(text: str, keys: list[str], value: Any) -> str:
    """Set a nested key (creating mappings on the way), keeping comments and order."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    rt = YAML()
    rt.preserve_quotes = True
    doc = rt.load(text) if text.strip() else None
    if doc is None:
        doc = CommentedMap()
    node = doc
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = CommentedMap()
        node = node[key]
    node[keys[-1]] = value
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def roundtrip_set(text: str, key: str, value: str | None) -> str:
    """Set (None: remove) one top-level key of a YAML mapping, keeping comments and order."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    doc = rt.load(text) if text.strip() else None
    if doc is None:
        from ruamel.yaml.comments import CommentedMap

        doc = CommentedMap()
    if value is None:
        doc.pop(key, None)
    else:
        doc[key] = value
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()

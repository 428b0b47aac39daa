"""The config file's YAML loader: safe tags only, duplicate keys refused, aliases bounded.

`yaml.safe_load` alone still expands aliases without limit: nine levels of a "billion laughs"
made `check-config` grow ~36 MiB/s and never finish. This loader refuses documents with too
many aliases, too deep a nesting or too large an expansion, with the line and column.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_YAML_ALIASES = 1000
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 100_000
"""Nodes the document may stand for once every alias is expanded (a config is a few hundred)."""


class StrictSafeLoader(yaml.SafeLoader):
    """Safe loader that also refuses duplicate keys (a silent override hides mistakes), and
    alias bombs, recursive aliases and deep nesting (each would exhaust memory or the stack)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """One node, counting aliases and nesting as the document is read."""
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]  # stubs lack it
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_YAML_ALIASES:
                raise _refused(f"more than {MAX_YAML_ALIASES} aliases", event.start_mark)
            return super().compose_node(parent, index)
        if self._depth >= MAX_YAML_DEPTH:
            raise _refused(f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """One value; a tagged scalar that cannot be that type is a YAML error, located."""
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError) as exc:  # `!!int abc`, `2001-02-30`
            raise yaml.constructor.ConstructorError(
                None, None, f"not a valid {node.tag.rsplit(':', 1)[-1]}: {exc}", node.start_mark
            ) from None

    def compose_document(self) -> yaml.Node | None:
        """The document's node graph, refused before construction if aliases blow it up."""
        node = super().compose_document()
        if node is not None:
            _check_expansion(node)
        return node


def _refused(problem: str, mark: Any) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, problem, mark)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a graph that expands past MAX_YAML_NODES, or that contains itself."""
    sizes: dict[int, int] = {}  # id(node) -> nodes it expands to
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order, iteratively: an alias chain must not recurse per link
        node, finished = stack.pop()
        if finished:
            ancestors.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[id(node)] > MAX_YAML_NODES:
                raise _refused(
                    f"aliases expand it past {MAX_YAML_NODES} nodes (an alias bomb?)",
                    node.start_mark,
                )
        elif id(node) in ancestors:
            raise _refused("an alias refers to a node that contains it", node.start_mark)
        elif id(node) not in sizes:
            ancestors.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))


def _construct_mapping(loader: StrictSafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    own = sum(key.tag != "tag:yaml.org,2002:merge" for key, _ in node.value)
    loader.flatten_mapping(node)  # merged (`<<: *x`) pairs first, then the mapping's own
    merged = len(node.value) - own
    mapping: dict[Any, Any] = {}
    seen: set[Any] = set()
    for index, (key_node, value_node) in enumerate(node.value):
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # a list or mapping as a key
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        if index >= merged:  # a merged key may be overridden once; the mapping's own may not
            seen.add(key)
        mapping[key] = loader.construct_object(value_node)
    return mapping


StrictSafeLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)

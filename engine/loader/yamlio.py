"""Strict YAML loading: duplicate keys are errors, and every mapping remembers its line numbers."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, SequenceNode

from engine.errors import Finding


class YDict(dict[str, Any]):
    """A mapping from YAML with the line of itself and of each key (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YList(list[Any]):
    line: int = 0
    item_lines: list[int]


class DuplicateKeyError(Finding):
    def __init__(self, key: str, line: int, first: int) -> None:
        super().__init__(f"duplicate key '{key}' (first at line {first})")
        self.key = key
        self.line = line
        self.first = first


# Limits of a YAML document (rulebook, scenario, golden file), checked before it is built:
# aliases can make a few hundred bytes expand to billions of nodes ("billion laughs").
MAX_YAML_NODES = 200_000  # nodes once every alias is expanded
MAX_YAML_DEPTH = 64  # nesting of mappings and lists


class YamlLimitError(Finding):  # noqa: N818 - recorded as a problem of the file
    def __init__(self, what: str, limit: int, line: int) -> None:
        super().__init__(f"the document is too large once expanded: {what} (at most {limit})")
        self.line = line


class _Loader(yaml.SafeLoader):
    def compose_document(self) -> Any:
        node = super().compose_document()
        _check_size(node)
        return node


def _check_size(root: Any) -> None:
    """Expanded node count and depth of a composed document, aliases counted each time."""
    sizes: dict[int, tuple[int, int]] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if key in sizes and not done:
            continue
        children: list[Any] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [n for pair in node.value for n in pair]
        if not done:
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        size = 1 + sum(sizes[id(c)][0] for c in children)
        depth = 1 + max((sizes[id(c)][1] for c in children), default=0)
        if size > MAX_YAML_NODES:
            raise YamlLimitError(f"{size:,} nodes", MAX_YAML_NODES, node.start_mark.line + 1)
        if depth > MAX_YAML_DEPTH:
            raise YamlLimitError(f"{depth} levels of nesting", MAX_YAML_DEPTH,
                                 node.start_mark.line + 1)  # fmt: skip
        sizes[key] = (size, depth)


def _construct_mapping(loader: _Loader, node: MappingNode) -> YDict:
    out = YDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        key = str(key)
        line = key_node.start_mark.line + 1
        if key in out.key_lines:
            raise DuplicateKeyError(key, line, out.key_lines[key])
        out.key_lines[key] = line
        out[key] = loader.construct_object(value_node, deep=True)
    return out


def _construct_sequence(loader: _Loader, node: SequenceNode) -> YList:
    out = YList(loader.construct_sequence(node, deep=True))
    out.line = node.start_mark.line + 1
    out.item_lines = [n.start_mark.line + 1 for n in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass

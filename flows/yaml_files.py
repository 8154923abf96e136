"""Reading the YAML data files (models, the crosswalk, the message catalogue) safely and fast.

Parsing the data files is most of the work `maturity-bot models` does after its imports. libyaml
(`CSafeLoader`) parses and composes the node tree in C, but PyYAML then builds the Python data
from it in pure Python, one generic `construct_object` per node. Our files are plain data
(mappings, lists, strings, a few numbers and booleans), so `Loader` builds those directly, about
a third faster, and hands any document with something else in it (a merge key, a tag, a recursive
anchor, a value PyYAML refuses) to PyYAML's own safe constructor, whole: the result, and any
error, is always exactly `yaml.safe_load`'s (tests/test_yaml_files.py).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the same result, parsed in C (in pure
Python, parsing the model files was about half of a command's start-up time)."""

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALARS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary", "timestamp")
)
"""Scalar tags whose safe constructors are plain functions of the node (no generators, no
recursion): they are called as PyYAML calls them."""


class _NotPlain(Exception):
    """The document holds something the direct builder leaves to PyYAML."""


class Loader(SAFE_LOADER):
    """The safe loader, building plain data directly from the composed nodes."""

    def construct_document(self, node: Node) -> Any:
        try:
            return _build(self, node, {}, set())
        except Exception:  # _NotPlain, or an error PyYAML must raise (and word) itself
            return super().construct_document(node)


def _build(loader: yaml.BaseLoader, node: Node, built: dict[int, Any], open_: set[int]) -> Any:
    """`built`: the data of each node by identity, so an alias shares its anchor's object as
    with PyYAML; `open_`: the collections being built, to spot a recursive anchor."""
    key = id(node)
    if key in built:
        return built[key]
    kind, tag = type(node), node.tag
    if kind is ScalarNode:
        if tag == _STR:
            return node.value
        if tag not in _SCALARS:
            raise _NotPlain
        value = loader.yaml_constructors[tag](loader, node)
    elif key in open_:
        raise _NotPlain
    elif kind is SequenceNode and tag == _SEQ:
        open_.add(key)
        value = [_build(loader, item, built, open_) for item in node.value]
    elif kind is MappingNode and tag == _MAP:
        open_.add(key)
        value = {}
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode or (
                key_node.tag != _STR and key_node.tag not in _SCALARS
            ):
                raise _NotPlain  # a merge key (<<), a collection as key, a tagged key
            value[_build(loader, key_node, built, open_)] = _build(loader, value_node, built, open_)
    else:
        raise _NotPlain
    built[key] = value
    return value


def load_yaml(text: str) -> object:
    """Like `yaml.safe_load`: plain data only, never objects."""
    return yaml.load(text, Loader=Loader)  # noqa: S506 (a safe loader)

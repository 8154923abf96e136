"""The data-file loader (flows/yaml_files.py) gives exactly what `yaml.safe_load` gives: the same
data with the same types and the same sharing of anchored objects, including the YAML features
it leaves to PyYAML; and where a document is refused, the same error as libyaml's safe loader
(whose messages point at the place without quoting the line, unlike the pure-Python one)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.yaml_files import SAFE_LOADER, load_yaml

ROOT = Path(__file__).resolve().parent.parent

DOCUMENTS = {
    "plain": "a: 1\nb: [x, 'y', \"z\"]\nc: {d: null, e: ~, f: ''}\n",
    "scalars": (
        "t: true\nf: off\ni: 0x1F\no: 0o17\nn: -3\nx: 1_000\nr: 2.5e3\ninf: .inf\nnan: .NaN\n"
        "d: 2024-02-29\nts: 2024-02-29 10:11:12.5+01:00\nb: !!binary aGVsbG8=\ns: !!str 12\n"
        "q: '12'\nblock: |\n  two\n  lines\nfolded: >\n  one\n  line\n"
    ),
    "keys": "1: int\ntrue: bool\n2.5: float\n~: none\n2024-01-01: date\n",
    "duplicate keys": "a: 1\nb: 2\na: 3\n",
    "anchors": "base: &b [1, 2]\nagain: *b\nmap: &m {k: v}\ncopy: *m\n",
    "merge key": "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n",
    "value key": "a:\n  =: 1\n",
    "recursive": "&a [1, *a]\n",
    "set": "!!set {a, b}\n",
    "omap": "!!omap [a: 1, b: 2]\n",
    "pairs": "!!pairs [a: 1, a: 2]\n",
    "empty": "",
    "only a scalar": "just text\n",
    "nested": "- - - deep: [1, {two: [3]}]\n",
}

REFUSED = {
    "unhashable key": "? [a, b]\n: c\n",
    "unknown tag": "a: !thing 1\n",
    "python object": "a: !!python/object:os.system {}\n",
    "impossible date": "a: 2023-02-30\n",
    "bad binary": "a: !!binary ***\n",
    "not yaml": "a: [1, 2\n",
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_same_data_and_types_as_safe_load(name):
    text = DOCUMENTS[name]
    ours, theirs = load_yaml(text), yaml.safe_load(text)
    assert repr(ours) == repr(theirs)  # repr: True and 1, 1 and 1.0 are equal but not the same


def test_an_alias_is_the_same_object_as_its_anchor():
    data = load_yaml(DOCUMENTS["anchors"])
    assert data["again"] is data["base"] and data["copy"] is data["map"]


def test_a_recursive_anchor_holds_itself():
    data = load_yaml(DOCUMENTS["recursive"])
    assert data[0] == 1 and data[1] is data


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_safe_load_refuses_is_refused_with_the_same_error(name):
    text = REFUSED[name]
    with pytest.raises(Exception) as theirs:
        yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    with pytest.raises(type(theirs.value)) as ours:
        load_yaml(text)
    assert str(ours.value) == str(theirs.value)


def test_every_shipped_data_file_reads_as_safe_load_reads_it():
    files = [*sorted((ROOT / "model_data").glob("*.yaml")), ROOT / "flows" / "messages.yaml"]
    assert len(files) > 10
    for path in files:
        text = path.read_text("utf-8")
        assert repr(load_yaml(text)) == repr(yaml.safe_load(text)), path.name

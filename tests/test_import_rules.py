"""The import rules of bot/ and flows/, read from the source with `ast` (nothing is imported, so
a rule holds for modules no test happens to load).

Three kinds of import are told apart:
- module level: runs when the module is imported (class bodies and `try`/`if` at the top
  included). These decide whether a program can start at all, so they may form no cycle.
- function level: runs when the function is first called, after every module has loaded, so a
  cycle through one cannot fail at import time. They are how platform libraries stay out of
  commands that do not need them. But a cycle through one still means two modules that cannot
  be understood or tested apart: the runtime graph (module and function level together) may
  only have the cycles in KNOWN_RUNTIME_CYCLES, each with the reason and the owner. A new
  cycle fails, and so does a listed one that is gone, so the list can only shrink.
- under `if TYPE_CHECKING:`: annotations only, never run; left out of the cycle rules, but
  counted by the layering rules (a type from a platform is still a platform dependency).

The layering rules count every kind of import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "flows")
PLATFORM_LIBRARIES = {"slack": {"slack_bolt", "slack_sdk"}, "telegram": {"telegram"}}
"""Each platform folder's own libraries: imported only inside bot/<platform>/."""
ENTRY_POINTS = {"bot.__main__"}
"""`python -m bot`: may import the command line, as the installed console script does."""

KNOWN_RUNTIME_CYCLES: set[frozenset[str]] = set()
"""None left: the pulse modules take their names from the platform's events, output and updates
modules, not from the app that builds them."""


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    """The module imported, or for `from m import name` the module m.name when it exists."""
    kind: str
    """'module', 'function' or 'typing'."""
    line: int

    def __str__(self) -> str:
        return f"{self.importer} -> {self.target} ({self.kind} level, line {self.line})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = source_files()


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def resolve(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement names (a `from` import's names where they are modules)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        package = importer.split(".")
        if MODULES.get(importer, Path()).name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    named = [f"{base}.{alias.name}" for alias in node.names]
    return [name for name in named if name in MODULES] or [base]


def imports_of(name: str, path: Path) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, kind: str) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.extend(Import(name, t, kind, node.lineno) for t in resolve(name, node))
            return
        if isinstance(node, ast.If) and is_type_checking(node.test):
            for child in node.body:
                visit(child, "typing")
            for child in node.orelse:
                visit(child, kind)
            return
        inner = kind
        if kind == "module" and isinstance(
            node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        ):
            inner = "function"
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(ast.parse(path.read_text("utf-8"), str(path)), "module")
    return found


IMPORTS = [imp for name, path in MODULES.items() for imp in imports_of(name, path)]


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def cycles(kinds: set[str]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm) in the
    graph of our own modules over the imports of the given kinds."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for imp in IMPORTS:
        if imp.kind in kinds and imp.target in MODULES and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def describe(component: frozenset[str], kinds: set[str]) -> str:
    edges = [
        str(imp)
        for imp in IMPORTS
        if imp.kind in kinds and imp.importer in component and imp.target in component
    ]
    return "{" + ", ".join(sorted(component)) + "}: " + "; ".join(edges)


def offending(rule) -> list[str]:
    return [str(imp) for imp in IMPORTS if rule(imp)]


# ---- the rules ----------------------------------------------------------------------------------
def test_the_sources_are_found_and_read():
    assert {"bot.cli", "bot.channel", "bot.platforms", "flows.engine"} <= set(MODULES)
    assert any(imp.kind == "function" for imp in IMPORTS)
    assert any(imp.kind == "typing" for imp in IMPORTS)


def test_no_import_cycle_at_module_level():
    found = cycles({"module"})
    assert not found, "\n".join(describe(c, {"module"}) for c in found)


def test_cycles_through_function_level_imports_are_only_the_known_ones():
    found = cycles({"module", "function"})
    new = found - KNOWN_RUNTIME_CYCLES
    assert not new, "new cycles:\n" + "\n".join(describe(c, {"module", "function"}) for c in new)
    gone = KNOWN_RUNTIME_CYCLES - found
    assert not gone, f"no longer cycles, remove them from KNOWN_RUNTIME_CYCLES: {gone}"


def test_nothing_imports_the_command_line():
    assert not offending(
        lambda imp: within(imp.target, "bot.cli") and imp.importer not in ENTRY_POINTS
    )


def test_flows_import_nothing_from_bot_nor_a_platform_library():
    libraries = set().union(*PLATFORM_LIBRARIES.values())
    assert not offending(
        lambda imp: (
            within(imp.importer, "flows")
            and (within(imp.target, "bot") or imp.target.split(".")[0] in libraries)
        )
    )


PULSE_CORE = ("bot.pulse", "flows.pulse")


@pytest.mark.parametrize("platform", sorted(PLATFORM_LIBRARIES))
def test_the_pulse_core_imports_no_platform_code(platform):
    """bot/pulse/ and flows/pulse.py: the pulse runs on any platform through its messenger."""
    code = {f"bot.{platform}", *PLATFORM_LIBRARIES[platform]}
    assert not offending(
        lambda imp: (
            any(within(imp.importer, core) for core in PULSE_CORE)
            and any(within(imp.target, name) for name in code)
        )
    )


@pytest.mark.parametrize("platform", sorted(PLATFORM_LIBRARIES))
def test_a_platform_is_imported_only_from_its_own_folder(platform):
    """A platform is a folder (bot/platforms.py finds it and imports its code by name): nothing
    outside it imports it or its library, so adding or removing one touches nothing else."""
    folder = f"bot.{platform}"
    code = {folder, *PLATFORM_LIBRARIES[platform]}
    assert not offending(
        lambda imp: (
            not within(imp.importer, folder) and any(within(imp.target, name) for name in code)
        )
    )


def test_every_platform_folder_has_its_libraries_listed_here():
    folders = {path.parent.name for path in (ROOT / "bot").glob("*/platform.py")}
    assert folders == set(PLATFORM_LIBRARIES)


# ---- the registry keeps other commands free of platform libraries --------------------------------
NOT_FOR_LISTING = (
    "slack_bolt",
    "slack_sdk",
    "telegram",
    "matplotlib",
    "bot.slack.app",
    "bot.telegram.app",
    "sqlite_utils",
    "numpy",
    "transitions",
    "bot.storage",
    "bot.service",
    "flows.engine",
    "flows.scan",
)
"""What listing the models does not need: the platforms' libraries and apps, the charts, the
database (sqlite-utils pulls in numpy when it is installed), the assessment engine and the
quick scan. Each costs start-up time that `maturity-bot models` (what scripts call) would pay
for nothing."""


@pytest.mark.parametrize("argv", [["models"], ["models", "--json"]])
def test_models_command_loads_no_platform_library_nor_the_database(argv):
    """`maturity-bot models` builds the whole command line, every platform's options
    included, and checks every model file, without importing what only other commands use."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys; from bot.cli import main; code = main(sys.argv[1:]); "
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr); sys.exit(code)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "groeimodel" in run.stdout and "altimeter" in run.stdout
    loaded = json.loads(run.stderr.strip().splitlines()[-1])
    assert not [m for m in loaded if any(within(m, name) for name in NOT_FOR_LISTING)]


def test_the_command_line_has_a_subcommand_per_registered_platform():
    from bot.cli import build_parser
    from bot.platforms import platform_names, platforms

    assert platform_names() == ["slack", "telegram"]
    found = platforms()
    assert [p.name for p in found.values()] == platform_names()
    parser = build_parser(found)
    args = parser.parse_args(["telegram", "--webhook", "https://example.org/hook"])
    assert args.command == "telegram" and args.port == 8443
    assert parser.parse_args(["slack", "--http"]).port == 3000
    fewer = build_parser({"slack": found["slack"]})
    with pytest.raises(SystemExit):
        fewer.parse_args(["telegram"])

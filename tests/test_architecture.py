"""The rules of docs/architecture.md that import-linter cannot check, read from the source.

import-linter's contracts (``pyproject.toml``, run by ``./dev test``) hold the layers. This
file holds the rest: nothing inside the package imports the package root, no ``_private``
name crosses a wing, and module-level mutable state lives only where the architecture says.
Each test reads every module's syntax tree, so a new module is covered without a line here.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chatkit_notebook"
ROOT = "chatkit_notebook"
WINGS = ("stores", "previews", "agent", "panel", "kernel")

# Module-level state that changes while the kernel runs, each with why it is allowed. The
# rule: per-kernel state belongs to kernel/session.py's session; process-wide settings to
# config; the loop to runtime; everything else is a cache named as such, or a registry the
# session installs and removes.
ALLOWED_STATE = {
    ("kernel.session", "_loaded"): "the one loaded session (per kernel)",
    ("kernel.session", "_exit_hook"): "whether the kernel-exit hook is registered (once)",
    ("config", "_configured"): "configure()'s values (per process, by design)",
    ("runtime", "_runtime"): "the package's loop thread (per process)",
    ("runtime", "_main_thread"): "what a main-thread wait runs, set by the session",
    ("agent.mainthread", "_state"): "the kernel's main thread, bound by the session",
    ("previews.foreign", "_worker"): "the worker thread that times foreign calls (a cache)",
    ("previews.foreign", "_stuck"): "how many timed calls that worker abandoned (its cache)",
    ("panel.views", "_SHARED"): "the panel's style widget, made once per process (a cache)",
    ("stores.file", "_PROCESS_LOCKS"): "one thread lock per store file (a registry)",
    ("stores.file", "_LOOP_LOCKS"): "one asyncio lock per store file and loop (a registry)",
}

MUTATORS = {
    "append",
    "add",
    "update",
    "pop",
    "popitem",
    "clear",
    "setdefault",
    "put",
    "put_nowait",
    "extend",
    "insert",
    "remove",
    "discard",
    "appendleft",
}


@dataclass(frozen=True)
class Module:
    name: str  # dotted, relative to the package: "agent.server", "" for the root
    path: Path
    tree: ast.Module

    @property
    def wing(self) -> str:
        """The wing a module belongs to: a subpackage, or each root module alone."""
        return self.name.split(".")[0] or "__init__"

    @property
    def package(self) -> str:
        """The package a relative import in this module starts from."""
        parts = self.name.split(".") if self.name else []
        return ".".join(parts if self.path.name == "__init__.py" else parts[:-1])


def modules() -> Iterator[Module]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield Module(".".join(parts), path, ast.parse(path.read_text(encoding="utf-8")))


MODULES = list(modules())
NAMES = {m.name for m in MODULES}


def resolve(module: Module, node: ast.ImportFrom) -> str | None:
    """The dotted name (relative to the package) an import reads from; None outside it."""
    if node.level == 0:
        if node.module == ROOT:
            return ""
        if node.module and node.module.startswith(ROOT + "."):
            return node.module[len(ROOT) + 1 :]
        return None
    base = module.package.split(".") if module.package else []
    if node.level > 1:
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def imports(module: Module) -> Iterator[tuple[ast.ImportFrom | ast.Import, str | None]]:
    for node in ast.walk(module.tree):
        if isinstance(node, ast.ImportFrom):
            yield node, resolve(module, node)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == ROOT:
                    yield node, ""


def where(module: Module, node: ast.AST) -> str:
    return f"{module.path.relative_to(PACKAGE.parent)}:{getattr(node, 'lineno', 0)}"


def test_the_modules_are_found() -> None:
    # A wrong path would make every rule below pass vacuously.
    assert {"agent.server", "panel.panel", "stores.file", "kernel.magics", "_client"} <= NAMES
    assert len(MODULES) > 40


def test_nothing_inside_the_package_imports_the_package_root() -> None:
    found = []
    for module in MODULES:
        if module.name == "":
            continue
        for node, source in imports(module):
            if source != "":
                continue
            if isinstance(node, ast.Import):
                found.append(f"{where(module, node)} import {ROOT}")
                continue
            for alias in node.names:
                if alias.name not in NAMES:  # `from .. import errors` names a module: fine
                    found.append(f"{where(module, node)} imports {alias.name} from the root")
    assert found == [], "the package root is for users, not for the package:\n" + "\n".join(found)


def _wing_of(name: str) -> str:
    return name.split(".")[0] or "__init__"


def test_no_private_name_crosses_a_wing() -> None:
    found = []
    for module in MODULES:
        for node, source in imports(module):
            if source is None or isinstance(node, ast.Import):
                continue
            for alias in node.names:
                target = f"{source}.{alias.name}" if source else alias.name
                # A private module (`from ..stores import _journal`) or a private name in a
                # module (`from ..runtime import _wait`) of another wing.
                private = alias.name.startswith("_") and not alias.name.startswith("__")
                private_module = any(
                    p.startswith("_") and not p.startswith("__")
                    for p in source.split(".")[1:]
                    if source
                )
                owner = _wing_of(target if target in NAMES else source)
                if (private or private_module) and owner != module.wing:
                    found.append(f"{where(module, node)} imports {alias.name} from {source}")
    assert found == [], "make the name public, or move it into the wing:\n" + "\n".join(found)


def _module_level_containers(module: Module) -> set[str]:
    names = set()
    for node in module.tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name) and target.id != "__all__" and value is not None:
                names.add(target.id)
    return names


def _mutated_state(module: Module) -> Iterator[tuple[str, ast.AST]]:
    """Module-level names a function rebinds (``global``) or mutates in place."""
    top = _module_level_containers(module)
    for func in ast.walk(module.tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        local = {a.arg for a in func.args.args + func.args.kwonlyargs}
        for node in ast.walk(func):
            if isinstance(node, ast.Global):
                for name in node.names:
                    yield name, node
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                obj = node.func.value
                if (
                    isinstance(obj, ast.Name)
                    and obj.id in top
                    and obj.id not in local
                    and node.func.attr in MUTATORS
                ):
                    yield obj.id, node
            elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
                targets = (
                    node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                )
                for target in targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id in top
                        and target.value.id not in local
                    ):
                        yield target.value.id, node


def test_module_level_state_lives_only_where_the_architecture_says() -> None:
    found = []
    seen = set()
    for module in MODULES:
        for name, node in _mutated_state(module):
            seen.add((module.name, name))
            if (module.name, name) not in ALLOWED_STATE:
                found.append(f"{where(module, node)} changes module-level {name!r}")
    assert found == [], (
        "per-kernel state belongs to the session (kernel/session.py); add a process-wide "
        "cache to ALLOWED_STATE with its reason:\n" + "\n".join(sorted(set(found)))
    )
    stale = sorted(set(ALLOWED_STATE) - seen)
    assert stale == [], f"ALLOWED_STATE names state that no longer exists: {stale}"


@pytest.mark.parametrize("wing", WINGS)
def test_each_wing_says_what_belongs_in_it_and_what_it_may_import(wing: str) -> None:
    init = next(m for m in MODULES if m.name == wing)
    doc = ast.get_docstring(init.tree) or ""
    assert "Belongs here" in doc or "belongs" in doc.lower(), doc
    assert "import" in doc, doc

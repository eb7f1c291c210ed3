"""House-style checks that ruff, mypy and import-linter cannot express; `make lint` runs them.

    python -m deploy.checks.style [PATH ...]    # default: the whole repository; exit 1 and file:line per finding

- `kw-only`: a dataclass with more than three fields is `kw_only=True` (docs/design.md §11): four positional
  arguments are unreadable at the call site and silently swap when fields are reordered.
- `positional`: a call passes at most three positional arguments, and never a bare True/False, to a function or
  class defined in this repository (found through the module's own definitions and its `from` imports).
- `outside-pointer`: nothing points outside the repository; every rule, section and note the code cites lives
  in `docs/` (a path into a sibling checkout, or a `.md` file that exists nowhere in the tree, is a finding).

Standard library only (`ast`), so it runs before anything else is imported.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "delivery", "services", "emulator", "deploy", "bench", "tests", "tools")
SKIP_DIRS = {".git", ".venv", ".cache", ".mypy_cache", ".ruff_cache", ".pytest_cache", "node_modules", "__pycache__"}
TEXT_SUFFIXES = {".py", ".md", ".toml", ".sh", ".sql", ".yaml", ".yml", ".txt", ".j2", ".cfg", ".ini", ".xml"}
TEXT_NAMES = {"Makefile", "run"}
MAX_FIELDS = 3
MAX_POSITIONAL = 3
# The slashes are character classes, so that a plain grep for these pointers does not find this file itself.
SIBLING_CHECKOUT = re.compile(r"(\.\./)+(shared|reference)[/]|\bshared[/](docs|reference)\b")
MD_PATH = re.compile(r"[\w./-]*\w\.md\b")
URL = re.compile(r"\w+://\S+")

Index = dict[str, set[str]]
"""Module name -> names of the functions and classes defined at its top level."""


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One violation, printed as `path:line: [check] message`."""

    path: str
    line: int
    check: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.check}] {self.message}"


def check_source(source: str, *, path: str = "module.py", index: Index | None = None) -> list[Finding]:
    """The Python findings of one module's text; `index` names the project's callables (default: its own)."""
    tree = ast.parse(source, filename=path)
    module = module_name(path)
    index = index if index is not None else {module: top_level_callables(tree)}
    findings = list(dataclass_findings(tree, path=path))
    findings += call_findings(tree, path=path, names=project_names(tree, module=module, index=index))
    return findings


def check_text(text: str, *, path: str, exists: Callable[[str], bool]) -> list[Finding]:
    """Pointers outside the repository in any text file; `exists(token)` says whether a cited .md is ours."""
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        sibling = SIBLING_CHECKOUT.search(line)
        if sibling:
            findings.append(Finding(path=path, line=number, check="outside-pointer",
                                    message=f"points outside the repository ({sibling.group(0)!r}): cite docs/"))
            continue
        for token in MD_PATH.findall(URL.sub(" ", line)):
            if not exists(token):
                findings.append(Finding(path=path, line=number, check="outside-pointer",
                                        message=f"{token} is not in the repository: cite docs/"))
    return findings


# -- dataclasses --------------------------------------------------------------------------------------------


def dataclass_findings(tree: ast.Module, *, path: str) -> Iterator[Finding]:
    """Dataclasses (from the standard library) with more than three positional fields."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        decorator = _dataclass_decorator(node)
        if decorator is None or _keyword_is_true(decorator, "kw_only"):
            continue
        positional = _positional_fields(node)
        if len(positional) > MAX_FIELDS:
            yield Finding(path=path, line=node.lineno, check="kw-only",
                          message=f"dataclass {node.name} has {len(positional)} positional fields: "
                                  "declare it @dataclass(..., kw_only=True)")


def _dataclass_decorator(node: ast.ClassDef) -> ast.expr | None:
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if (isinstance(target, ast.Name) and target.id == "dataclass") or (
                isinstance(target, ast.Attribute) and target.attr == "dataclass"
                and isinstance(target.value, ast.Name) and target.value.id == "dataclasses"):
            return decorator
    return None


def _keyword_is_true(decorator: ast.expr, name: str) -> bool:
    if not isinstance(decorator, ast.Call):
        return False
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True
               for k in decorator.keywords)


def _positional_fields(node: ast.ClassDef) -> list[str]:
    """Annotated class attributes up to a `_: KW_ONLY` marker, without ClassVars and `field(kw_only=True)`."""
    fields = []
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        annotation = ast.unparse(statement.annotation)
        if annotation.endswith("KW_ONLY"):
            break
        if "ClassVar" in annotation or (statement.value is not None and _keyword_is_true(statement.value, "kw_only")):
            continue
        fields.append(statement.target.id)
    return fields


# -- calls --------------------------------------------------------------------------------------------------


def top_level_callables(tree: ast.Module) -> set[str]:
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def project_names(tree: ast.Module, *, module: str, index: Index) -> set[str]:
    """Names usable in this module that denote a callable defined in the project."""
    names = set(index.get(module, set()))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            defined = index.get(node.module, set())
            names.update(alias.asname or alias.name for alias in node.names if alias.name in defined)
    return names


def call_findings(tree: ast.Module, *, path: str, names: set[str]) -> Iterator[Finding]:
    """Calls of project callables with more than three positional arguments or a bare True/False."""
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names):
            continue
        positional = [a for a in node.args if not isinstance(a, ast.Starred)]
        if len(positional) > MAX_POSITIONAL:
            yield Finding(path=path, line=node.lineno, check="positional",
                          message=f"{node.func.id}() gets {len(positional)} positional arguments: pass keywords")
        elif any(isinstance(a, ast.Constant) and isinstance(a.value, bool) for a in positional):
            yield Finding(path=path, line=node.lineno, check="positional",
                          message=f"{node.func.id}() gets a bare True/False: pass it by keyword")


# -- the repository -----------------------------------------------------------------------------------------


def module_name(path: str) -> str:
    parts = Path(path).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def repository_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if any(part in SKIP_DIRS for part in path.relative_to(root).parts) or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES:
            yield path


def build_index(root: Path, files: Iterable[Path]) -> tuple[Index, dict[Path, ast.Module]]:
    index: Index = {}
    trees = {}
    for path in files:
        relative = path.relative_to(root)
        if path.suffix == ".py" and relative.parts[0] in PACKAGES:
            trees[path] = ast.parse(path.read_text(encoding="utf-8"), filename=str(relative))
            index[module_name(str(relative))] = top_level_callables(trees[path])
    return index, trees


def check_repository(root: Path = ROOT, only: Iterable[Path] = ()) -> list[Finding]:
    """Every finding in the repository (or in the files under `only`)."""
    files = list(repository_files(root))
    index, trees = build_index(root, files)
    markdown = {p.name for p in files if p.suffix == ".md"}
    selected = [p.resolve() for p in only]
    findings: list[Finding] = []
    for path in files:
        if selected and not any(path == s or s in path.parents for s in selected):
            continue
        relative = str(path.relative_to(root))
        if path in trees:
            module = module_name(relative)
            names = project_names(trees[path], module=module, index=index)
            findings += dataclass_findings(trees[path], path=relative)
            findings += call_findings(trees[path], path=relative, names=names)
        findings += check_text(path.read_text(encoding="utf-8", errors="replace"), path=relative,
                               exists=lambda token: Path(token).name in markdown)
    return sorted(findings, key=lambda f: (f.path, f.line))


def main(argv: list[str] | None = None) -> int:
    only = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    findings = check_repository(ROOT, only)
    for finding in findings:
        print(finding)
    print(f"style: {len(findings)} finding(s)", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())

"""The house-style checker (`make lint`) finds wide positional dataclasses, wide positional calls and pointers
outside the repository, and says where; code that follows the rules passes."""

from __future__ import annotations

import textwrap

from deploy.checks.style import ROOT, check_repository, check_source, check_text, main

OUTSIDE = "../" + "shared" + "/docs/design.md"  # spelled apart so the repository itself never contains them
MISSING = "notes" + ".md"


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip()


def test_a_dataclass_with_four_positional_fields_is_reported_with_its_line():
    findings = check_source(source("""
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class Order:
            order_id: str
            shop_id: str
            amount: int
            status: str = "pending"
    """), path="services/x/domain/model.py")
    assert [(f.path, f.line, f.check) for f in findings] == [("services/x/domain/model.py", 4, "kw-only")]
    assert str(findings[0]).startswith("services/x/domain/model.py:4: [kw-only] dataclass Order has 4")


def test_keyword_only_small_and_classvar_dataclasses_pass():
    assert check_source(source("""
        import dataclasses
        from dataclasses import KW_ONLY, dataclass
        from typing import ClassVar

        @dataclasses.dataclass(frozen=True, kw_only=True)
        class Wide:
            a: int
            b: int
            c: int
            d: int

        @dataclass
        class Narrow:
            a: int
            b: int
            c: int
            LIMIT: ClassVar[int] = 3

        @dataclass
        class Marked:
            a: int
            _: KW_ONLY
            b: int
            c: int
            d: int
    """)) == []


def test_a_plain_dataclass_decorator_without_arguments_is_checked_too():
    findings = check_source(source("""
        import dataclasses

        @dataclasses.dataclass
        class Row:
            a: int
            b: int
            c: int
            d: int
    """))
    assert [f.check for f in findings] == ["kw-only"]


def test_four_positional_arguments_or_a_bare_bool_to_a_project_callable_are_reported():
    findings = check_source(source("""
        def charge(order, amount, pay_type, *, member=None, capture=False):
            return order

        charge("o-1", 100, "01", member=None)
        charge("o-1", 100, "01", None)
        charge("o-1", True)
        print("a", "b", "c", "d")
    """))
    assert [(f.line, f.check) for f in findings] == [(5, "positional"), (6, "positional")]
    assert "4 positional arguments" in findings[0].message and "True/False" in findings[1].message


def test_calls_of_callables_imported_from_project_modules_are_checked():
    index = {"delivery.outbox": {"OutboxRow"}, "main": set()}
    findings = check_source(source("""
        from delivery.outbox import OutboxRow as Row

        Row(1, "topic", b"key", [])
    """), path="main.py", index=index)
    assert [(f.line, f.check) for f in findings] == [(3, "positional")]


def test_pointers_outside_the_repository_are_reported_and_docs_inside_pass():
    text = f"The rules are in [{OUTSIDE}]({OUTSIDE}).\nSee docs/design.md §6.2 and {MISSING}.\n"
    findings = check_text(text, path="README.md", exists=lambda token: token.endswith("design.md"))
    assert [(f.line, f.check) for f in findings] == [(1, "outside-pointer"), (2, "outside-pointer")]
    assert f"{MISSING} is not in the repository" in findings[1].message
    assert check_text("See docs/design.md and https://example.org/x.md\n", path="README.md",
                      exists=lambda token: token == "docs/design.md") == []


def test_the_repository_scan_reports_file_and_line(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "design.md").write_text("# Design\n")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "ok.py").write_text('"""Cites docs/design.md §6.2."""\n')
    (tmp_path / "deploy" / "bad.py").write_text(f'"""Cites {OUTSIDE}."""\n')
    findings = check_repository(tmp_path)
    assert [(f.path, f.line) for f in findings] == [("deploy/bad.py", 1)]


def test_the_checker_passes_its_own_package_and_prints_nothing(capsys):
    assert main([str(ROOT / "deploy" / "checks")]) == 0
    assert capsys.readouterr().out == ""

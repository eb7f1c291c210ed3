"""Schema snapshots: the committed files match the models, and `compare` applies the design §4 rule."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from contracts.schemas import check, compare, current_schemas, dumps, load_snapshots
from contracts.schemas.__main__ import main


class Terms(BaseModel):
    every: int
    unit: Literal["day", "month"]


class Old(BaseModel):
    order_id: str
    amount: int
    note: str | None = None
    terms: Terms | None = None
    lines: list[Terms] = Field(default_factory=list)


def schema_of(model: type[BaseModel]) -> dict:
    return model.model_json_schema(mode="validation")


def changes(new_model: type[BaseModel]) -> list[str]:
    return compare(schema_of(Old), schema_of(new_model))


def test_committed_snapshots_match_the_current_models():
    result = check(load_snapshots(), current_schemas())

    assert result.incompatible == []
    assert result.stale == []


def test_the_check_command_passes_on_the_committed_snapshots(capsys):
    assert main(["check"]) == 0
    assert "33 event schemas match" in capsys.readouterr().out


def test_an_identical_schema_is_compatible():
    assert changes(Old) == []


def test_a_new_optional_field_is_compatible():
    class New(Old):
        channel: str | None = None

    assert changes(New) == []


def test_a_new_optional_field_in_a_nested_model_is_compatible():
    class NewTerms(Terms):
        anchor_day: int | None = None

    class New(Old):
        terms: NewTerms | None = None
        lines: list[NewTerms] = Field(default_factory=list)

    assert changes(New) == []


def test_a_changed_description_is_compatible():
    class New(Old):
        amount: int = Field(description="now documented")

    assert changes(New) == []


def test_a_removed_field_is_incompatible():
    class New(BaseModel):
        order_id: str
        note: str | None = None
        terms: Terms | None = None
        lines: list[Terms] = Field(default_factory=list)

    assert changes(New) == ["field 'amount' removed (or renamed)"]


def test_a_renamed_field_is_incompatible():
    class New(BaseModel):
        order_id: str
        total: int
        note: str | None = None
        terms: Terms | None = None
        lines: list[Terms] = Field(default_factory=list)

    assert changes(New) == ["field 'amount' removed (or renamed)", "new required field 'total'"]


def test_a_retyped_field_is_incompatible():
    class New(Old):
        amount: str  # type: ignore[assignment]

    assert len(problems := changes(New)) == 1
    assert problems[0].startswith("field 'amount' type changed")


def test_a_new_required_field_is_incompatible():
    class New(Old):
        currency: str

    assert changes(New) == ["new required field 'currency'"]


def test_an_optional_field_that_becomes_required_is_incompatible():
    class New(Old):
        note: str  # type: ignore[assignment]

    assert "field 'note' became required" in changes(New)


def test_a_nullable_field_that_becomes_non_nullable_is_incompatible():
    class New(Old):
        note: str = ""  # type: ignore[assignment]

    assert changes(New) != []


def test_removing_a_field_of_a_nested_model_is_incompatible():
    class NewTerms(BaseModel):
        every: int

    class New(Old):
        terms: NewTerms | None = None

    assert changes(New) == ["field 'terms.unit' removed (or renamed)"]


def test_changing_an_enum_inside_a_list_item_is_incompatible():
    class NewTerms(BaseModel):
        every: int
        unit: Literal["day", "month", "year"]

    class New(Old):
        lines: list[NewTerms] = Field(default_factory=list)

    assert [p.split(" type changed")[0] for p in changes(New)] == ["field 'lines[].unit'"]


def test_tightening_a_constraint_is_incompatible():
    class New(Old):
        amount: int = Field(ge=1)

    assert changes(New) != []


def test_moving_an_event_to_another_topic_is_incompatible():
    old = {**schema_of(Old), "x-topic": "orders.events"}
    new = {**schema_of(Old), "x-topic": "payments.events"}

    assert compare(old, new) == ["topic changed from 'orders.events' to 'payments.events'"]


def test_check_flags_a_removed_type_and_an_unsnapshotted_new_type():
    snapshots = {"order.placed.v1": schema_of(Old)}
    current = {"order.placed.v2": schema_of(Old)}

    result = check(snapshots, current)

    assert result.incompatible == ["order.placed.v1: event type removed (consumers may still receive it)"]
    assert result.stale == ["order.placed.v2: new event type without a snapshot"]


def test_check_reports_a_compatible_change_as_stale_not_incompatible():
    class New(Old):
        channel: str | None = None

    result = check({"x.v1": schema_of(Old)}, {"x.v1": schema_of(New)})

    assert result.incompatible == []
    assert result.stale == ["x.v1: snapshot differs from the model"]


def test_write_refuses_to_record_an_incompatible_change(tmp_path):
    (tmp_path / "checkout.requested.v1.json").write_text(dumps({**schema_of(Old), "x-topic": "x"}))

    assert main(["write", "--dir", str(tmp_path)]) == 1
    assert "order_id" in (tmp_path / "checkout.requested.v1.json").read_text()
    assert main(["check", "--dir", str(tmp_path)]) == 1

"""ChatKit widget trees render as core ipywidgets, safely and within bounds."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import ipywidgets as W
import pytest
from chatkit.actions import ActionConfig
from chatkit.widgets import Badge, Button, Card, Markdown, Row, Text, Title, WidgetTemplate

from chatkit_notebook.panel.chatkit_widgets import render_widget


def walk(widget: W.Widget) -> Iterator[W.Widget]:
    yield widget
    for child in getattr(widget, "children", ()):
        yield from walk(child)


def with_class(widget: W.Widget, css_class: str) -> list[W.Widget]:
    return [w for w in walk(widget) if css_class in w._dom_classes]


def all_html(widget: W.Widget) -> str:
    return "\n".join(w.value for w in walk(widget) if isinstance(w, W.HTML))


def build(tree: dict[str, Any]) -> Any:
    """A DynamicWidgetRoot, the way a tool builds one without deprecated classes."""
    template = WidgetTemplate({"version": "1.0", "name": "t", "template": json.dumps(tree)})
    return template.build()


def never(action: ActionConfig) -> None:
    raise AssertionError(f"unexpected action {action!r}")


TABLE = "| a | b |\n|---|---|\n| 1 | 2 |"


def test_strict_card_renders_every_part_with_its_class() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        card = Card(
            children=[
                Title(value="Sales"),
                Text(value="Quarterly numbers"),
                Markdown(value=TABLE),
                Row(
                    children=[
                        Badge(label="new"),
                        Button(
                            label="Open",
                            onClickAction=ActionConfig(type="open", payload={"id": 7}),
                        ),
                    ]
                ),
            ]
        )
    clicked: list[ActionConfig] = []

    widget = render_widget(card, on_action=clicked.append)

    assert isinstance(widget, W.VBox)
    assert {"ck-widget", "ck-w-card"} <= set(widget._dom_classes)
    assert "Sales" in with_class(widget, "ck-w-title")[0].value
    assert "Quarterly numbers" in with_class(widget, "ck-w-text")[0].value
    assert "<table>" in with_class(widget, "ck-w-markdown")[0].value
    (row,) = with_class(widget, "ck-w-row")
    assert isinstance(row, W.HBox)
    assert "new" in with_class(row, "ck-w-badge")[0].value
    (button,) = with_class(row, "ck-w-button")
    assert isinstance(button, W.Button)
    assert button.description == "Open"
    assert not button.disabled

    button.click()

    assert clicked == [ActionConfig(type="open", payload={"id": 7})]


def test_dynamic_root_button_calls_on_action_with_action_config() -> None:
    root = build(
        {
            "type": "Card",
            "children": [
                {"type": "Button", "label": "Go", "onClickAction": {"type": "go", "payload": [1]}}
            ],
        }
    )
    clicked: list[ActionConfig] = []

    widget = render_widget(root, on_action=clicked.append)
    with_class(widget, "ck-w-button")[0].click()

    assert clicked == [ActionConfig(type="go", payload=[1])]


def test_plain_dict_tree_renders() -> None:
    tree = {"type": "ListView", "children": [{"type": "ListViewItem", "children": []}]}
    widget = render_widget(tree, on_action=never)
    assert with_class(widget, "ck-w-listview")
    assert with_class(widget, "ck-w-listviewitem")


def test_button_without_action_is_disabled() -> None:
    widget = render_widget(
        {"type": "Card", "children": [{"type": "Button", "label": "Noop"}]}, on_action=never
    )
    (button,) = with_class(widget, "ck-w-button")
    assert button.disabled


def test_text_is_escaped_not_markup() -> None:
    script = "<script>alert(1)</script>"
    tree = {
        "type": "Card",
        "children": [{"type": k, "value": script} for k in ("Text", "Title", "Caption", "Markdown")]
        + [{"type": "Badge", "label": script}],
    }
    html = all_html(render_widget(tree, on_action=never))
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") == 5


def test_unknown_component_shows_its_type_and_label() -> None:
    tree = {
        "type": "Card",
        "children": [{"type": "Sparkline<b>", "label": "Weekly <trend>", "points": [1, 2]}],
    }
    (unknown,) = with_class(render_widget(tree, on_action=never), "ck-w-unknown")
    assert "Sparkline&lt;b&gt;" in unknown.value
    assert "Weekly &lt;trend&gt;" in unknown.value
    assert "ck-w-sparklineb" in unknown._dom_classes


def test_malformed_component_degrades_instead_of_raising() -> None:
    tree = {"type": "Card", "children": [{"type": "Image", "src": {"not": "a url"}}, 42]}
    html = all_html(render_widget(tree, on_action=never))
    assert "blocked: not a web address" in html
    assert "[unknown]" in html


def test_image_from_other_domain_is_blocked() -> None:
    tree = {
        "type": "Card",
        "children": [
            {"type": "Image", "src": "https://evil.example/x?d=secret", "alt": "chart"},
            {"type": "Image", "src": "https://img.good.example/a.png", "alt": "ok"},
            {"type": "Image", "src": "http://good.example/b.png"},
            {"type": "Image", "src": 'https://good.example/c.png" onerror="x'},
        ],
    }
    images = with_class(
        render_widget(tree, on_action=never, allowed_image_domains=["good.example"]),
        "ck-w-image",
    )
    values = [w.value for w in images]
    assert "<img" not in values[0]
    assert "blocked: evil.example" in values[0]
    assert '<img src="https://img.good.example/a.png"' in values[1]
    assert "<img" not in values[2]
    # The quote cannot close the attribute: the URL stays one percent-encoded value.
    assert values[3].startswith('<img src="https://good.example/c.png%22%20onerror=%22x" ')


def test_image_without_allow_list_is_blocked() -> None:
    image = {"type": "Image", "src": "https://good.example/a.png"}
    widget = render_widget({"type": "Card", "children": [image]}, on_action=never)
    assert "<img" not in all_html(widget)


@pytest.fixture
def deep_tree() -> dict[str, Any]:
    tree: dict[str, Any] = {"type": "Text", "value": "bottom"}
    for _ in range(200):
        tree = {"type": "Col", "children": [tree]}
    return {"type": "Card", "children": [tree]}


def test_deep_tree_is_cut_at_max_depth(deep_tree: dict[str, Any]) -> None:
    widget = render_widget(deep_tree, on_action=never)
    assert "bottom" not in all_html(widget)
    assert len(with_class(widget, "ck-w-truncated")) == 1
    assert len(with_class(widget, "ck-w-col")) == 50


def test_wide_tree_is_cut_at_max_nodes() -> None:
    tree = {"type": "Card", "children": [{"type": "Text", "value": str(i)} for i in range(2000)]}
    widget = render_widget(tree, on_action=never, max_nodes=100)
    (card,) = with_class(widget, "ck-w-card")
    assert len(card.children) == 100
    assert "ck-w-truncated" in card.children[-1]._dom_classes


def test_card_confirm_and_cancel_become_buttons() -> None:
    tree = {
        "type": "Card",
        "children": [],
        "confirm": {"label": "Yes", "action": {"type": "confirm"}},
        "cancel": {"label": "No", "action": {"type": "cancel"}},
    }
    clicked: list[ActionConfig] = []
    widget = render_widget(build(tree), on_action=clicked.append)
    with_class(widget, "ck-w-card-cancel")[0].click()
    assert [a.type for a in clicked] == ["cancel"]

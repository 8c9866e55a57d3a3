"""ChatKit widget trees (cards, lists, badges, buttons) as core ipywidgets.

A tool can answer with a ChatKit widget (``WidgetItem.widget``) instead of text. The
official client draws it in React; the notebook panel has only core ipywidgets, so
:func:`render_widget` walks the tree and builds ``VBox``/``HBox`` layouts, ``HTML`` parts and
``Button`` controls, with no custom JavaScript. The tree is model output and therefore
untrusted: text is escaped, ``Markdown`` goes through :func:`render_markdown`'s allow-list,
an ``Image`` loads only from an allowed ``https`` host (the rule markdown images follow), and
depth and node count are capped. A component this module does not know, or a malformed one,
shows as readable text such as ``[Select: Pick a size]``; rendering never raises for
anything inside the tree.

Fields are read by name, so the strict classes (``Card``, ``Text``...), the
``DynamicWidgetRoot`` that ``WidgetTemplate.build`` returns (whose unknown fields are pydantic
extras) and plain dicts all work. Every part carries the CSS class ``ck-w-<type>`` in lower
case (``ck-w-card``, ``ck-w-button``) and the root also ``ck-widget``, for styles and tests.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence

import ipywidgets as W
from chatkit.actions import ActionConfig
from markdown_it.common.normalize_url import normalizeLink
from pydantic import BaseModel, ValidationError

from .._items import widget_field as _field
from .markdown import _image_block_reason, _normalise_domains, render_markdown, render_plain

__all__ = ["MAX_DEPTH", "MAX_NODES", "ActionHandler", "render_widget"]

logger = logging.getLogger("chatkit_notebook")

MAX_DEPTH = 50
"""Nesting deeper than this many levels shows as ``[…]``."""

MAX_NODES = 500
"""Components after this many in one tree show as a single ``[…]`` per container."""

ActionHandler = Callable[[ActionConfig], object]
"""Called with a component's ``ActionConfig`` when the user clicks it."""

_TRUNCATED = "[…]"
_CLASS_SAFE = re.compile(r"[^a-z0-9_-]")
# Fields worth showing when a component is not understood, in the order tried.
_READABLE_FIELDS = ("label", "value", "text", "title", "name", "placeholder")
_MAX_READABLE_CHARS = 500


def render_widget(
    root: object,
    *,
    on_action: ActionHandler,
    allowed_image_domains: Sequence[str] | None = None,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> W.Widget:
    """Build core ipywidgets that show a ChatKit widget tree.

    Args:
        root: A ``WidgetRoot`` or ``WidgetComponent`` from ``chatkit.widgets`` (strict or
            dynamic), or the same shape as a dict (``{"type": "Card", "children": [...]}``).
        on_action: Called with the ``ActionConfig`` of a ``Button`` (``onClickAction``),
            ``ListViewItem`` or ``Card`` confirm/cancel when the user clicks it. It runs in
            the kernel's comm handler, so it should return quickly.
        allowed_image_domains: Hosts whose ``https`` images may load, as for
            :func:`render_markdown`; ``None`` or empty blocks every image.
        max_depth: Levels of nesting to draw before showing ``[…]``.
        max_nodes: Components to draw before showing ``[…]`` for the rest.

    Returns:
        A widget (usually a ``VBox``) with the class ``ck-widget``.

    Raises:
        ConfigError: An entry of ``allowed_image_domains`` is not a bare host name.
    """
    domains = _normalise_domains(tuple(allowed_image_domains or ()))
    renderer = _Renderer(on_action, allowed_image_domains, domains, max_depth, max_nodes)
    widget = renderer.render(root, 0)
    return widget.add_class("ck-widget")


class _Renderer:
    """One walk over one tree, counting the nodes it has drawn."""

    def __init__(
        self,
        on_action: ActionHandler,
        markdown_domains: Sequence[str] | None,
        image_domains: tuple[str, ...],
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.on_action = on_action
        self.markdown_domains = markdown_domains
        self.image_domains = image_domains
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.nodes = 0

    @property
    def exhausted(self) -> bool:
        return self.nodes >= self.max_nodes

    def render(self, node: object, depth: int) -> W.Widget:
        """Draw one component; a failure in it becomes readable text, not an exception."""
        if depth > self.max_depth or self.exhausted:
            return _truncated()
        self.nodes += 1
        kind = _type_of(node)
        try:
            return self._render(kind, node, depth)
        except Exception:  # a malformed component must not take the whole widget down
            logger.warning("Could not render a %r widget component", kind, exc_info=True)
            return _unknown(kind, node)

    def _render(self, kind: str, node: object, depth: int) -> W.Widget:
        if kind in ("Card", "ListView", "Basic", "Col", "Form", "Transition"):
            return self._container(kind, node, depth, row=False)
        if kind in ("Row", "ListViewItem"):
            return self._container(kind, node, depth, row=True)
        if kind == "Box":
            return self._container(kind, node, depth, row=_field(node, "direction") == "row")
        if kind in ("Text", "Title", "Caption", "Label"):
            return _html(kind, _text_html(kind, _str_field(node, "value")))
        if kind == "Badge":
            return _html(kind, f"<span>{render_plain(_str_field(node, 'label'))}</span>")
        if kind == "Markdown":
            value = _str_field(node, "value")
            return _html(kind, render_markdown(value, allowed_image_domains=self.markdown_domains))
        if kind == "Image":
            return _html(kind, self._image_html(node))
        if kind == "Button":
            return self._button(
                kind, node, _str_field(node, "label"), _field(node, "onClickAction")
            )
        if kind == "Icon":
            name = html.escape(_str_field(node, "name"))
            return _html(kind, f'<span title="{name}" aria-label="{name}"></span>')
        if kind == "Divider":
            return _html(kind, "<hr>")
        if kind == "Spacer":
            return _html(kind, "<span></span>")
        return _unknown(kind, node)

    def _container(self, kind: str, node: object, depth: int, *, row: bool) -> W.Widget:
        parts: list[W.Widget] = []
        status = _field(node, "status")
        if kind in ("Card", "ListView") and status is not None:
            parts.append(_html("status", render_plain(_str_field(status, "text"))))
        for child in _children(node):
            if self.exhausted:
                parts.append(_truncated())
                break
            parts.append(self.render(child, depth + 1))
        action = _field(node, "onClickAction")
        if kind == "ListViewItem" and action is not None:
            parts.append(self._button("listviewitem-action", node, "Select", action))
        if kind == "Card":
            footer = [
                self._button(
                    f"card-{which}", node, _str_field(spec, "label"), _field(spec, "action")
                )
                for which in ("confirm", "cancel")
                if (spec := _field(node, which)) is not None
            ]
            for button in footer[:1]:
                if "ck-w-card-confirm" in button._dom_classes:
                    button.button_style = "primary"  # the card's own action stands out
            if footer:
                parts.append(W.HBox(footer).add_class("ck-w-card-actions"))
        box = W.HBox(parts) if row else W.VBox(parts)
        if row and _field(node, "wrap") == "wrap":
            box.layout.flex_flow = "row wrap"
        return box.add_class(_css_class(kind))

    def _button(self, kind: str, node: object, label: str, raw_action: object) -> W.Widget:
        action = _action_config(raw_action)
        button = W.Button(
            description=label,
            tooltip=label,
            disabled=action is None or _field(node, "disabled") is True,
        )
        if action is not None:
            on_action = self.on_action

            def clicked(_button: W.Button) -> None:
                on_action(action)

            button.on_click(clicked)
        return button.add_class(_css_class(kind))

    def _image_html(self, node: object) -> str:
        src = normalizeLink(_str_field(node, "src").strip())
        alt = _str_field(node, "alt")
        blocked = _image_block_reason(src, self.image_domains)
        if blocked is not None:
            label = f"image: {alt}" if alt else "image"
            # ``blocked`` is already escaped by _markdown.
            return f'<span class="ck-blocked-image">[{html.escape(label)} ({blocked})]</span>'
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}" loading="lazy">'


def _str_field(node: object, name: str) -> str:
    value = _field(node, name)
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _type_of(node: object) -> str:
    kind = _field(node, "type")
    return kind if isinstance(kind, str) and kind else "unknown"


def _children(node: object) -> list[object]:
    children = _field(node, "children")
    if children is None:
        return []
    if isinstance(children, (Mapping, BaseModel)):
        return [children]  # Transition and dynamic components may hold one child
    if isinstance(children, Sequence) and not isinstance(children, (str, bytes)):
        return list(children)
    return [children]


def _action_config(raw: object) -> ActionConfig | None:
    if raw is None:
        return None
    if isinstance(raw, ActionConfig):
        return raw
    try:
        data = raw.model_dump() if isinstance(raw, BaseModel) else raw
        return ActionConfig.model_validate(data)
    except ValidationError:
        logger.warning("Ignoring a widget action that is not an ActionConfig: %r", raw)
        return None


def _css_class(kind: str) -> str:
    return "ck-w-" + (_CLASS_SAFE.sub("", kind.lower()) or "unknown")


def _html(kind: str, value: str) -> W.Widget:
    return W.HTML(value).add_class(_css_class(kind))


def _text_html(kind: str, value: str) -> str:
    body = render_plain(value)
    if kind == "Title":
        return f"<strong>{body}</strong>"
    if kind == "Caption":
        return f"<small>{body}</small>"
    return f"<span>{body}</span>"


def _truncated() -> W.Widget:
    return W.HTML(html.escape(_TRUNCATED)).add_class("ck-w-truncated")


def _unknown(kind: str, node: object) -> W.Widget:
    """Readable text for a component this module cannot draw: its type and any text."""
    texts = [_str_field(node, name) for name in _READABLE_FIELDS]
    shown = ", ".join(text for text in texts if text)
    if len(shown) > _MAX_READABLE_CHARS:
        shown = shown[:_MAX_READABLE_CHARS] + "…"
    text = f"[{kind}: {shown}]" if shown else f"[{kind}]"
    widget = W.HTML(f"<span>{render_plain(text)}</span>").add_class("ck-w-unknown")
    return widget.add_class(_css_class(kind))

"""Sphinx glue for the book: widgets as their saved first view, and nothing from the network.

MyST-NB shows a widget with ipywidgets' HTML manager, JavaScript fetched from a CDN at read
time. The book must work from disk with no network, so each widget view is replaced here by
a static rendering of the state that nbclient saved while executing the chapter: the
controls as they were first drawn (disabled), and what the widget's output area showed
(the figure), with a note that moving the controls needs JupyterLab.
"""
from __future__ import annotations

import html
import json

from docutils import nodes

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_VIEW_SCRIPT = f'<script type="{WIDGET_VIEW}">'
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
SLIDERS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "IntRangeSliderModel",
           "FloatRangeSliderModel", "SelectionSliderModel"}


def _model_id(ref: str) -> str:
    return ref[len("IPY_MODEL_"):] if isinstance(ref, str) and ref.startswith("IPY_MODEL_") else ref


def _fmt(value, model: dict) -> str:
    fmt = model.get("readout_format")
    if isinstance(value, (int, float)) and fmt:
        try:
            return format(value, fmt)
        except (ValueError, TypeError):
            pass
    return str(value)


def _output_html(output: dict) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        return f'<pre class="dlcv-widget-stream">{html.escape(output.get("text", ""))}</pre>'
    if kind == "error":
        return f'<pre class="dlcv-widget-stream">{html.escape(output.get("ename", ""))}: {html.escape(output.get("evalue", ""))}</pre>'
    data = output.get("data", {})
    for mime in IMAGE_TYPES:
        if mime in data:
            payload = data[mime]
            if mime == "image/svg+xml":
                return f'<div class="dlcv-widget-image">{payload if isinstance(payload, str) else "".join(payload)}</div>'
            payload = "".join(payload) if isinstance(payload, list) else payload
            return (f'<img class="dlcv-widget-image" alt="the widget\'s figure, first view" '
                    f'src="data:{mime};base64,{payload.strip()}">')
    if "text/html" in data:
        payload = data["text/html"]
        return payload if isinstance(payload, str) else "".join(payload)
    if "text/plain" in data:
        payload = data["text/plain"]
        return f'<pre class="dlcv-widget-stream">{html.escape(payload if isinstance(payload, str) else "".join(payload))}</pre>'
    return ""


def render_widget(model_id: str, state: dict, depth: int = 0) -> str:
    """Static HTML for one widget model (and its children) from the saved widget state."""
    entry = state.get(model_id)
    if entry is None or depth > 20:
        return ""
    name, model = entry.get("model_name", ""), entry.get("state", {})
    description = html.escape(str(model.get("description", "")))
    if "children" in model:
        inner = "".join(render_widget(_model_id(c), state, depth + 1) for c in model["children"])
        return f'<div class="dlcv-widget-box">{inner}</div>'
    if name == "OutputModel":
        inner = "".join(_output_html(o) for o in model.get("outputs", []))
        return f'<div class="dlcv-widget-output">{inner}</div>'
    if name in SLIDERS:
        value = model.get("value")
        if isinstance(value, (list, tuple)):
            shown = " to ".join(_fmt(v, model) for v in value)
            value = value[0]
        else:
            shown = _fmt(value, model)
            if name == "SelectionSliderModel":
                labels = model.get("_options_labels", [])
                index = model.get("index", 0)
                shown = html.escape(str(labels[index])) if index is not None and index < len(labels) else ""
        attrs = ""
        if isinstance(value, (int, float)) and name != "SelectionSliderModel":
            attrs = (f' min="{model.get("min", 0)}" max="{model.get("max", 100)}" '
                     f'step="{model.get("step", 1)}" value="{value}"')
        return (f'<div class="dlcv-widget-control"><label>{description}</label>'
                f'<input type="range" disabled{attrs}><span class="dlcv-widget-value">{html.escape(shown)}</span></div>')
    if "value" in model or "_options_labels" in model:
        value = model.get("value")
        if "_options_labels" in model and model.get("index") is not None:
            index = model["index"]
            index = index[0] if isinstance(index, list) and index else index
            labels = model["_options_labels"]
            value = labels[index] if isinstance(index, int) and index < len(labels) else value
        return (f'<div class="dlcv-widget-control"><label>{description}</label>'
                f'<span class="dlcv-widget-value">{html.escape(str(value))}</span></div>')
    return ""


def static_widget(view: dict, state: dict, note: str) -> str:
    """The widget's first view, preceded by ``note`` (HTML)."""
    body = render_widget(view.get("model_id", ""), state)
    return (f'<div class="dlcv-widget" data-model-id="{html.escape(view.get("model_id", ""))}">'
            f'<p class="dlcv-widget-note">{note}</p>{body}</div>')


def replace_widget_views(app, doctree) -> None:
    """doctree-read: widget views -> static first views; drop MyST-NB's widget scripts."""
    from myst_nb.sphinx_ import NbMetadataCollector

    from book.notebook import WIDGET_NOTE

    env = app.env
    js_files = NbMetadataCollector.get_doc_data(env)[env.docname].get("js_files", {})
    state_entry = js_files.pop("ipywidgets_state", None)
    for key in [k for k in js_files if k.startswith("ipywidgets_")]:
        js_files.pop(key)
    state = {}
    if state_entry is not None:
        body = state_entry[1].get("body", "{}")
        state = json.loads(body.replace("<\\/", "</")).get("state", {})
    for raw in list(doctree.findall(nodes.raw)):
        text = raw.astext()
        if not text.startswith(_VIEW_SCRIPT):
            continue
        payload = text[len(_VIEW_SCRIPT):-len("</script>")].replace("<\\/", "</")
        view = json.loads(payload)
        if isinstance(view, str):
            view = json.loads(view)
        raw.replace_self(nodes.raw("", static_widget(view, state, WIDGET_NOTE), format="html"))


def setup(app):
    app.connect("doctree-read", replace_widget_views)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

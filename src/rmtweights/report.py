"""One model's analysis as a self-contained HTML page: ``rmtweights analyze PATH --report report.html``.

:func:`report_html` turns :func:`rmtweights.api.analyze_model`'s table (with ``spectra=True``) into one
HTML file that opens from disk with nothing else: the figures are PNG images inline as ``data:`` URIs,
the style sheet is inline, there is no script and no external URL. It shows

* a header: the source, its metadata, the settings, and how much of the model was analysed
  (:func:`rmtweights.model_table.footer`);
* the model overview (:func:`rmtweights.plots.overview.overview_figure`): per layer in model order
  :math:`\\hat s/\\min(n, m)`, :math:`\\hat\\sigma`, Ave_w, :math:`\\alpha`, :math:`\\gamma_{\\max}/\\gamma_+`;
* the table, one line per analysed layer (:func:`rmtweights.model_table.layer_summary`);
* every analysed layer's spectrum (:func:`rmtweights.plots.spectrum.layer_figure`: the histogram, the
  MP density at each :math:`\\hat\\sigma`, each :math:`\\gamma_+` and the spikes), one section per layer
  with the id ``layer-<k>`` and the layer's name in ``data-layer``;
* the tensors that were not analysed, each with its reason.

A weights file is untrusted input: every string taken from it (tensor names, metadata, reasons that
quote them) goes through :func:`html.escape`, in text and in attributes alike, so a tensor named
``<script>alert(1)</script>`` is shown as that text and makes no element of its own; figures draw
names as plain text (``$`` escaped, never mathtext).
"""

from __future__ import annotations

import base64
import html
import io as _bytes_io
import os
from collections.abc import Mapping

import pandas as pd

from rmtweights.model_table import footer, layer_summary, skipped_layers

__all__ = ["report_html", "write_report", "figure_data_uri"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ccc; }
h3 { font-size: 0.95em; margin: 0.2em 0; font-family: monospace; word-break: break-all; }
table { border-collapse: collapse; font-size: 0.8em; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; } td.text { text-align: left; font-family: monospace; white-space: normal; }
.meta { color: #555; font-size: 0.9em; } .footer { font-weight: 600; }
.layers { display: flex; flex-wrap: wrap; gap: 12px; }
.layer { border: 1px solid #e3e3e3; padding: 6px; max-width: 460px; }
img { max-width: 100%; height: auto; }
.scroll { overflow-x: auto; }
"""


def figure_data_uri(fig, dpi: int = 80) -> str:
    """A matplotlib figure as a ``data:image/png;base64,...`` URI (no metadata in the PNG); closes it."""
    import matplotlib.pyplot as plt

    buffer = _bytes_io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _text(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(frame: pd.DataFrame, text_columns: tuple[str, ...]) -> str:
    """An HTML table; every cell escaped."""
    head = "".join(f"<th>{_text(c)}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f'<td class="text">{_text(v)}</td>' if c in text_columns else f"<td>{_text(v)}</td>"
                        for c, v in zip(frame.columns, row))
        body.append(f"<tr>{cells}</tr>")
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def report_html(table: pd.DataFrame, *, source: str | os.PathLike | None = None,
                metadata: Mapping[str, str] | None = None, settings: Mapping[str, object] | None = None) -> str:
    """The report page (module docstring) of one :func:`rmtweights.api.analyze_model` table.

    Parameters
    ----------
    table : pandas.DataFrame
        ``analyze_model(..., spectra=True)``'s output (the column ``sv`` holds the singular values).
    source : str or path, optional
        What was analysed (shown in the title).
    metadata : mapping of str to str, optional
        The file's own descriptive strings (a GGUF file's ``general.name``, ...); escaped.
    settings : mapping, optional
        The analysis's settings, shown as they are (escaped).

    Raises
    ------
    ValueError
        If the table has no singular values (column ``sv``).
    """
    from rmtweights.plots.overview import overview_figure
    from rmtweights.plots.spectrum import layer_figure

    if "sv" not in table.columns:
        raise ValueError("the report draws the spectra: pass analyze_model(..., spectra=True)'s table")
    name = os.path.basename(os.fspath(source)) if source is not None else "a model"
    trained = table[table["state"] == "trained"] if "state" in table.columns else table
    analysed = list(dict.fromkeys(trained.loc[trained["status"] == "ok", "layer"]))
    parts = ['<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
             f"<title>rmtweights report: {_text(name)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>Random-matrix analysis of {_text(name)}</h1>"]
    meta = [f"source: <code>{_text(source)}</code>"] if source is not None else []
    meta += [f"{_text(k)}: {_text(v)}" for k, v in (metadata or {}).items()]
    meta += [f"{_text(k)}: {_text(v)}" for k, v in (settings or {}).items()]
    if meta:
        parts.append('<p class="meta">' + "<br>".join(meta) + "</p>")
    parts.append(f'<p class="footer">{_text(footer(table))}</p>')
    parts.append("<h2>Overview</h2>")
    overview = overview_figure(table, title=f"Per-layer overview of {name}: {len(analysed)} analysed layers, "
                                            "in the model's order")
    parts.append(f'<img class="overview" src="{figure_data_uri(overview, dpi=90)}" alt="per-layer overview">')
    parts.append("<h2>Analysed layers</h2>")
    summary = layer_summary(table)
    parts.append(_table(summary, ("layer", "kind", "shape", "tail")) if len(summary) else "<p>none</p>")
    parts.append("<h2>Spectra</h2><div class=\"layers\">")
    for k, layer in enumerate(analysed, start=1):
        uri = figure_data_uri(layer_figure(table, layer))
        parts.append(f'<section class="layer" id="layer-{k}" data-layer="{_text(layer)}"><h3>{_text(layer)}</h3>'
                     f'<img src="{uri}" alt="spectrum of {_text(layer)}"></section>')
    parts.append("</div><h2>Not analysed</h2>")
    skipped = skipped_layers(table)
    parts.append(_table(skipped, ("layer", "shape", "reason")) if len(skipped) else "<p>none: every tensor analysed</p>")
    parts.append("<p class=\"meta\">Quantities are defined in the rmtweights documentation "
                 "(docs/reading-results.md); γ = s/√n, the threshold γ₊ is eq. (3) of Nishikawa et al. (2025).</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(table: pd.DataFrame, path: str | os.PathLike, *, source: str | os.PathLike | None = None,
                 metadata: Mapping[str, str] | None = None, settings: Mapping[str, object] | None = None) -> None:
    """Write :func:`report_html` to ``path`` atomically (UTF-8)."""
    from rmtweights import io

    text = report_html(table, source=source, metadata=metadata, settings=settings)
    with io.atomic_path(path, suffix=".html") as tmp:
        tmp.write_text(text, encoding="utf-8")

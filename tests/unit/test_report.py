"""The HTML report: self-contained, every analysed layer shown, every string from the file escaped."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from rmtweights.api import analyze_model
from rmtweights.cli import main
from rmtweights.report import report_html

HOSTILE = "<script>alert(1)</script>"


class _Page(HTMLParser):
    """Every start tag with its attributes, and the text."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def hostile_model(folder) -> str:
    """A weights file whose tensor names are markup: an analysed layer and a skipped tensor."""
    g = torch.Generator().manual_seed(0)
    state = {f"{HOSTILE}.weight": torch.randn(60, 40, generator=g), HOSTILE: torch.randn(5, 5, generator=g),
             '<img src=x onerror="alert(2)">.weight': torch.randn(50, 40, generator=g),
             "fc.bias": torch.zeros(60)}
    path = folder / "hostile.safetensors"
    save_file(state, str(path))
    return str(path)


def parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_report_is_self_contained_and_escapes_every_name(tmp_path):
    path = hostile_model(tmp_path)
    table = analyze_model(path, n_bootstrap=0, methods=["bema", "gb"], spectra=True)
    text = report_html(table, source=path, metadata={"general.name": "<b onmouseover=alert(3)>x</b>"})
    page = parse(text)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and not any("onerror" in attrs or "onmouseover" in attrs for _, attrs in page.tags)
    assert "http://" not in text and "https://" not in text and "src=\"//" not in text  # nothing to fetch
    images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    sections = [attrs for tag, attrs in page.tags if tag == "section"]
    analysed = list(dict.fromkeys(table.loc[table.status == "ok", "layer"]))
    assert [s["data-layer"] for s in sections] == analysed == ['<img src=x onerror="alert(2)">', HOSTILE]
    assert [s["id"] for s in sections] == ["layer-1", "layer-2"]
    body = "".join(page.text)
    assert HOSTILE in body and "<b onmouseover=alert(3)>x</b>" in body  # shown as text
    assert "1-d tensor" in body and "fc.bias" in body  # the skipped tensors with their reasons
    assert len(images) == 1 + len(analysed)  # the overview and one spectrum per layer


def test_report_needs_the_spectra(tmp_path):
    table = analyze_model(hostile_model(tmp_path), n_bootstrap=0, methods=["bema"])
    with pytest.raises(ValueError, match="spectra=True"):
        report_html(table)


def test_cli_writes_the_report(tmp_path, capsys):
    path = hostile_model(tmp_path)
    out = tmp_path / "r.html"
    assert main(["analyze", path, "--report", str(out), "--n-bootstrap", "0", "--quiet", "--baseline", "shuffled"]) == 0
    page = parse(out.read_text(encoding="utf-8"))
    assert len([1 for tag, _ in page.tags if tag == "section"]) == 2
    assert "baseline: shuffled" in "".join(page.text)
    assert np.isfinite(len(out.read_bytes()))

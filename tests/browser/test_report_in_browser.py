"""The report in a real browser: Debian's chromium, headless, driven through the DevTools protocol.

Opt-in like the SLURM tests: the test runs where ``chromium`` is installed, and installs it (apt-get,
as root: ``scripts/install_chromium.sh``) when ``CI=true`` or ``RMTW_INSTALL_SYSTEM_PACKAGES=1``;
otherwise it skips and says so. The page is loaded from disk (``file://``); the test collects every
console error, uncaught exception and JavaScript dialog while it loads, then asks the page for its
script elements, its layer sections and whether each image decoded.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_report import HOSTILE, hostile_model  # noqa: E402

from rmtweights.cli import main  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
OPT_IN = "RMTW_INSTALL_SYSTEM_PACKAGES=1"
TIMEOUT_S = 60

pytestmark = pytest.mark.browser


def _chromium() -> str:
    found = shutil.which("chromium")
    opted_in = os.environ.get("CI") == "true" or os.environ.get("RMTW_INSTALL_SYSTEM_PACKAGES") == "1"
    if found is None and opted_in:
        subprocess.run(["bash", str(REPO / "scripts" / "install_chromium.sh")], check=True, timeout=900)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip(f"Debian's chromium is not installed; install it (apt-get install chromium, root) or let the "
                    f"tests do it: {OPT_IN} (or CI=true)")
    return found


class DevTools:
    """A chromium process and its DevTools pipe (``--remote-debugging-pipe``: JSON messages ending in NUL)."""

    def __init__(self, chromium: str, profile: Path):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def fds():  # chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                      "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=fds, pass_fds=(3, 4), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer, self._id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str) -> dict:
        while True:
            event = self._next()
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _next(self) -> dict:
        deadline = time.monotonic() + TIMEOUT_S
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError("chromium did not answer within %d s" % TIMEOUT_S)
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        os.close(self._to_browser)
        os.close(self._from_browser)


_PAGE_STATE = """JSON.stringify({
  scripts: document.querySelectorAll('script').length,
  layers: Array.from(document.querySelectorAll('section.layer')).map(s => s.dataset.layer),
  visible: Array.from(document.querySelectorAll('section.layer img')).map(i => i.getBoundingClientRect().height > 50),
  decoded: Array.from(document.images).map(i => i.complete && i.naturalWidth > 0),
  hostileText: document.body.innerText.includes(%s)
})"""


def load(chromium: str, page: Path, profile: Path) -> tuple[list[dict], dict]:
    """Load ``page`` from disk; the console errors, exceptions and dialogs seen, and the page's state."""
    tools = DevTools(chromium, profile)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            tools.send(f"{domain}.enable", session=session)
        tools.send("Page.navigate", {"url": page.as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired")
        result = tools.send("Runtime.evaluate", {"expression": _PAGE_STATE % json.dumps(HOSTILE),
                                                 "returnByValue": True}, session=session)
        state = json.loads(result["result"]["value"])
    finally:
        tools.close()
    errors = [e for e in tools.events if e.get("method") in ("Runtime.exceptionThrown", "Page.javascriptDialogOpening")
              or (e.get("method") == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")
              or (e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("level") == "error")]
    return errors, state


def test_the_harness_sees_errors(tmp_path):
    """Control: a page with a failing script, a console error and a missing image is reported as such."""
    chromium = _chromium()
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="missing.png"><script>console.error("e"); throw new Error("x")</script>'
                    "</body></html>")
    errors, state = load(chromium, page, tmp_path / "profile")
    kinds = {e["method"] for e in errors}
    assert {"Runtime.exceptionThrown", "Runtime.consoleAPICalled", "Log.entryAdded"} <= kinds, kinds
    assert state["scripts"] == 1 and state["decoded"] == [False]


def test_report_loads_without_errors_and_shows_every_layer(tmp_path):
    chromium = _chromium()
    path = hostile_model(tmp_path)
    report = tmp_path / "report.html"
    assert main(["analyze", path, "--report", str(report), "--n-bootstrap", "0", "--quiet"]) == 0
    errors, state = load(chromium, report, tmp_path / "profile")
    assert errors == []
    assert state["scripts"] == 0  # the page has no script, and the hostile tensor name made none
    assert state["layers"] == ['<img src=x onerror="alert(2)">', HOSTILE]  # every analysed layer, in order
    assert all(state["visible"]) and all(state["decoded"]) and len(state["decoded"]) == 3
    assert state["hostileText"]  # shown as text

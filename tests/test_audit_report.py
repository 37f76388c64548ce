"""The audit's reports as a reader gets them: the HTML report in a real headless Chromium
(Debian's package: one row per cell, both figures drawn, no console error, nothing fetched),
the LaTeX table compiled by pdflatex, the CSV read back."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",
]


class Browser:
    """Chromium driven over the DevTools protocol on a pipe (fds 3 and 4 of the browser:
    NUL-terminated JSON), so the test needs no websocket client."""

    def __init__(self, profile: Path) -> None:
        executable = shutil.which("chromium") or shutil.which("chromium-browser")
        assert executable, "chromium is missing: apt-get install chromium (tests/debian-packages)"
        commands, self._to_browser = os.pipe()
        self._from_browser, replies = os.pipe()
        shell = f'exec "$0" "$@" 3<&{commands} 4>&{replies}'  # bash: dash wants fds < 10
        self.process = subprocess.Popen(
            ["bash", "-c", shell, executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}"],
            pass_fds=(commands, replies),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(commands)
        os.close(replies)
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        self.next_id = 0
        self.session: str | None = None

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        while True:
            found = next((e for e in self.events if e.get("method") == method), None)
            if found:
                return found
            self.events.append(self._read())

    def _read(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            ready, _, _ = select.select([self._from_browser], [], [], deadline - time.monotonic())
            assert ready, "the browser did not answer in time"
            chunk = os.read(self._from_browser, 1 << 16)
            assert chunk, "the browser closed its pipe"
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return dict(json.loads(message))

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close")
        finally:
            self.process.wait(timeout=30)
            os.close(self._to_browser)
            os.close(self._from_browser)


@pytest.fixture(scope="module")
def page(example_audit: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.html opened in Chromium: what the page shows, its screenshots, its events."""
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        browser.session = browser.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable")
        browser.call("Page.navigate", url=(example_audit / "report.html").as_uri())
        browser.wait_for("Page.loadEventFired")
        shown = browser.call("Runtime.evaluate", expression=PROBE, returnByValue=True)
        found = shown["result"]["value"]
        shots = [
            browser.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={**box, "scale": 1},
            )["data"]
            for box in found["figures"]
        ]
        return {"found": found, "shots": shots, "events": list(browser.events)}
    finally:
        browser.close()


PROBE = """(() => {
  const figures = [...document.querySelectorAll("figure img")].map(img => {
    const r = img.getBoundingClientRect();
    return {x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height,
            loaded: img.complete && img.naturalWidth > 0};
  });
  return {
    rows: document.querySelectorAll("#cells tbody tr").length,
    cells: [...document.querySelectorAll("#cells tbody tr")].map(tr => tr.cells[0].textContent),
    counts: document.querySelector("#counts").textContent,
    figures: figures.map(({loaded, ...box}) => box),
    loaded: figures.map(f => f.loaded),
    scripts: document.scripts.length,
  };
})()"""


def test_the_report_has_one_row_per_cell(page: dict[str, Any], example_audit: Path) -> None:
    summary = json.loads((example_audit / "summary.json").read_text())
    assert page["found"]["rows"] == len(summary["cells"]) == 7
    assert page["found"]["cells"] == [row["cell"] for row in summary["cells"]]
    assert page["found"]["counts"].startswith("7 cells: 7 computed, 0 could not be computed")
    assert page["found"]["scripts"] == 0


def test_both_figures_are_drawn(page: dict[str, Any]) -> None:
    from matplotlib.image import imread

    assert page["found"]["loaded"] == [True, True]
    for shot, box in zip(page["shots"], page["found"]["figures"], strict=True):
        pixels = imread(io.BytesIO(base64.b64decode(shot)), format="png")
        assert pixels.shape[0] >= box["height"] - 1 and box["width"] > 300
        ink = np.any(pixels[..., :3] < 0.9, axis=-1).mean()
        assert 0.02 < ink < 0.6, f"a figure is blank or a block ({ink:.3f} of pixels inked)"
        colours = {tuple(p) for p in (pixels[..., :3] * 255).astype(int).reshape(-1, 3)[::7]}
        assert len(colours) > 20, "a figure has no colours: not the drawing"


def test_no_console_error_and_nothing_fetched(page: dict[str, Any]) -> None:
    events = page["events"]
    errors = [
        e
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Runtime.consoleAPICalled" and e["params"]["type"] == "error")
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    assert errors == []
    fetched = [
        e["params"]["request"]["url"]
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
        and not e["params"]["request"]["url"].startswith(("file:", "data:"))
    ]
    assert fetched == []


def test_the_report_needs_no_network(example_audit: Path) -> None:
    html = (example_audit / "report.html").read_text(encoding="utf-8")
    outside = {
        ref
        for ref in __import__("re").findall(r'(?:src|href)="([^"]+)"', html)
        if not ref.startswith("data:")
    }
    assert outside == set()


def test_the_latex_table_compiles(example_audit: Path, tmp_path: Path) -> None:
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex is missing: apt-get install texlive-latex-recommended"
    body = (example_audit / "summary.tex").read_text(encoding="utf-8")
    assert body.startswith(r"% accard audit: needs \usepackage{array,booktabs,longtable,pdflscape}")
    document = (
        "\\documentclass{article}\n\\usepackage{array,booktabs,longtable,pdflscape}\n"
        "\\begin{document}\n" + body + "\\end{document}\n"
    )
    (tmp_path / "audit.tex").write_text(document, encoding="utf-8")
    result = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", "audit.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert (tmp_path / "audit.pdf").stat().st_size > 1000
    assert "Overfull \\hbox" not in result.stdout, "the table is wider than the page"


def test_the_csv_has_a_header_and_one_line_per_cell(example_audit: Path) -> None:
    text = (example_audit / "summary.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    summary = json.loads((example_audit / "summary.json").read_text())
    assert len(text.splitlines()) == 1 + len(summary["cells"])
    assert [r["cell"] for r in rows] == [c["cell"] for c in summary["cells"]]
    first = summary["cells"][0]
    assert float(rows[0]["delta_gap_high"]) == first["delta_gap"]["ci_high"]
    assert rows[0]["strict"] == "true" and rows[0]["reliability"] == "pass"

"""The digest in a real browser engine: no sideways scrolling on a 375px phone, one centred column on a
desktop. Headless Chromium loads the rendered mail with a small script that writes its own layout
measurements into the DOM, which --dump-dom prints.

Headless Chromium will not make a window narrower than 500px, so the mail is shown in an iframe of
the width under test (its viewport for layout, as a phone's screen is), inside a wider window."""

from __future__ import annotations

import html
import json
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from paperboy.mail.outbound.render import DigestView, NoticeView, Renderer
from paperboy.papers.model import Pick
from paperboy.papers.sources.hf import parse_items
from paperboy.papers.titles import display_title
from paperboy.readers.model import ReaderSettings

CHROMIUM = Path("/usr/bin/chromium")
FIXTURES = Path(__file__).parents[1] / "fixtures" / "daily_papers"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium: apt-get install chromium"
    ),
]

# Runs after the page has been laid out; reports the viewport, the document width and any element
# whose box reaches past the right edge of the viewport.
MEASURE = """<script>
(function () {
  var width = window.innerWidth, over = [];
  document.querySelectorAll("body *").forEach(function (element) {
    var box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5) {
      over.push(element.tagName + ": " + (element.textContent || "").trim().slice(0, 60));
    }
  });
  var column = document.querySelector(".wrap");
  (window.parent || window).document.documentElement.setAttribute("data-measure", JSON.stringify({
    innerWidth: width,
    scrollWidth: document.documentElement.scrollWidth,
    overflowing: over.slice(0, 10),
    column: column ? column.getBoundingClientRect().width : null
  }));
})();
</script>"""


def framed(page: str, width: int) -> str:
    """The page in an iframe `width` CSS pixels wide (srcdoc: same origin, so it can report out)."""
    return (
        '<!doctype html><html><body style="margin:0">'
        f'<iframe style="border:0;width:{width}px;height:4000px" srcdoc="{html.escape(page, quote=True)}">'
        "</iframe></body></html>"
    )


def measure(page: str, width: int, tmp_path: Path) -> dict[str, Any]:
    instrumented = tmp_path / f"page-{width}.html"
    instrumented.write_text(framed(page.replace("</body>", MEASURE + "</body>"), width), encoding="utf-8")
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / f'profile-{width}'}",
            f"--window-size={max(width, 500) + 100},900",
            "--dump-dom",
            instrumented.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    marker = 'data-measure="'
    start = result.stdout.find(marker)
    assert start != -1, f"chromium printed no measurement (exit {result.returncode}): {result.stderr[-2000:]}"
    end = result.stdout.index('"', start + len(marker))
    return json.loads(html.unescape(result.stdout[start + len(marker) : end]))


def realistic_digest() -> str:
    found, _ = parse_items(json.loads((FIXTURES / "2026-11-23.json").read_text()), date(2026, 11, 23))
    papers = sorted(found, key=lambda paper: -paper.upvotes)[:8]
    # The things that push a narrow column wide: unbroken words, long URLs, long names and lists.
    papers[0] = papers[0].model_copy(
        update={
            "display_title": "Hyperparameteroptimizationforlargelanguagemodelswithoutanyspacesatall"
            "inthetitlewhatsoever: A Study",
            "authors": ("Maximiliana Alexandrovna Konstantinopoulou-Featherstonehaugh", "B. Author"),
            "github_url": "https://github.com/an-organisation-with-a-long-name/"
            "a-repository-name-that-goes-on-and-on-and-never-stops-for-breath/tree/main/src",
            "project_url": "https://example.org/" + "very-long-path-segment-" * 6,
            "comments": 12,
        }
    )
    papers[1] = papers[1].model_copy(
        update={"display_title": display_title("L$^{2}$NAS: Learning to Optimize via $\\alpha$-Search")}
    )
    reason = ("matches: speech recognition, robot manipulation",)
    picks = [Pick(paper=paper, score=1.0, reasons=reason if n else ()) for n, paper in enumerate(papers)]
    view = DigestView(
        reader_email="maximiliana.konstantinopoulou-featherstonehaugh@a-very-long-university-domain.example.org",
        domain="papers.example.org",
        local_date=date(2026, 11, 28),
        picks=picks,
        settings=ReaderSettings(
            topics=("speech recognition", "robot manipulation", "vision language models", "diffusion"),
            authors=("Yann LeCun",),
            categories=("cs.CL", "cs.RO"),
        ),
        unsubscribe_url="https://abcdefghijklmnopqrstuvwxyz234567.lambda-url.us-east-1.on.aws/unsubscribe/"
        "01jd3hz78qk5.daily.k7x2mfrgg3dfmzxw4q5e.a8f3b2c1d0e9f8a7",
        reply_address="reply+01jd3hz78qk5.mfrgg3dfmzxw4@papers.example.org",
    )
    page = Renderer().digest(view).html
    assert page is not None
    return page


@pytest.mark.parametrize("width", [375, 1200])
def test_the_digest_never_scrolls_sideways(width, tmp_path):
    layout = measure(realistic_digest(), width, tmp_path)
    assert layout["innerWidth"] == width, "the window size was not applied"
    assert layout["scrollWidth"] <= layout["innerWidth"], layout
    assert layout["overflowing"] == [], layout
    # One readable column: the full width of a phone, at most 640px on a desktop.
    assert layout["column"] == (width if width < 640 else 640)


def test_a_notice_never_scrolls_sideways_on_a_phone(tmp_path):
    notice = NoticeView(
        subject="Done: your Paperboy settings",
        paragraphs=["Done:", "• topics are now: " + ", ".join(["speech recognition"] * 8), "x" * 200],
        settings_lines=["Topics: " + "averyveryverylongtopicwithoutspaces" * 3],
        action=("Confirm my subscription", "https://example.org/confirm/" + "t" * 150),
        help_text="Reply with one command per line:\n  topics: " + "speech-recognition-" * 10,
        unsubscribe_url="https://example.org/unsubscribe/" + "u" * 150,
    )
    page = Renderer().notice("ack", notice).html
    assert page is not None
    layout = measure(page, 375, tmp_path)
    assert layout["scrollWidth"] <= layout["innerWidth"] == 375, layout
    assert layout["overflowing"] == [], layout

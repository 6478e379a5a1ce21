"""The built book in a real browser: Debian's Chromium driven by Playwright, served from
127.0.0.1 only. Every page of _toc.yml loads cleanly offline, its math is typeset, its figures
and links work, search works, and each chapter's assignment downloads as the released notebook."""

import functools
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import nbformat
import pytest
from playwright.sync_api import sync_playwright

from tests.conftest import REPO, hidden_test_lines, solution_statements, toc_pages
from tests.test_assignments import included_solutions

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ASSIGNMENT_LINK = re.compile(r"\{download\}`[^`]*<\.\./autograder/release/([\w-]+)/\1\.ipynb>`")
RAW_MATH = re.compile(r"\$\$|\\\(|\\\[|\\[A-Za-z]{2,}")  # $$, \(, \[ or a TeX command
ID = re.compile(r"""\b(?:id|name)=["']([^"']+)["']""")
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy

PAGE_STATE = """() => {
    const visible = document.body.cloneNode(true);
    visible.querySelectorAll("pre, code, script, style, textarea, mjx-container")
           .forEach(element => element.remove());
    return {
        formulas: document.querySelectorAll(".math").length,
        untypeset: [...document.querySelectorAll(".math")]
                   .filter(element => !element.querySelector("mjx-container"))
                   .map(element => element.textContent.slice(0, 80)),
        typeset: document.querySelectorAll("mjx-container").length,
        text: visible.textContent,
        images: [...document.images].map(img => [img.src, img.complete && img.naturalWidth]),
        links: [...document.querySelectorAll("a[href]")].map(a => a.href),
    };
}"""


def assignment_ids(page):
    """The assignments a page links to with {download}, from its MyST source."""
    return sorted(set(ASSIGNMENT_LINK.findall((REPO / f"{page}.md").read_text())))


CHAPTERS_WITH_ASSIGNMENTS = [(page, assignment) for page in toc_pages()
                             for assignment in assignment_ids(page)]


def title_word(page):
    """The longest English word of a page's title: a term the search must find on that page."""
    title = next(line for line in (REPO / f"{page}.md").read_text().splitlines()
                 if line.startswith("# "))
    return max(re.findall(r"[A-Za-z]+", title), key=len).lower()


@pytest.fixture(scope="module")
def site(book):
    """The built book over HTTP on a free port of 127.0.0.1; yields its base URL."""
    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass  # one line per request would drown pytest's output

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=book))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM.exists(), "no /usr/bin/chromium: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Visit:
    """What happened when a page was loaded, and the state of the page afterwards."""
    console_errors: list
    bad_requests: list  # off the machine, failed, or answered with an error status
    state: dict  # PAGE_STATE's result


def open_page(browser, url):
    """A new browser tab on ``url``, whose requests may go to 127.0.0.1 only; returns
    (tab, console errors, bad requests), the lists filling as the tab runs."""
    context = browser.new_context()
    errors, bad = [], []

    def only_this_machine(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            bad.append(f"off the machine: {route.request.url}")
            route.abort()

    context.route("**/*", only_this_machine)
    tab = context.new_page()
    tab.on("console", lambda message: message.type == "error" and errors.append(message.text))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.on("requestfailed", lambda request: bad.append(f"failed: {request.url} {request.failure}"))
    tab.on("response", lambda response: response.status >= 400
           and bad.append(f"{response.status}: {response.url}"))
    tab.goto(url, wait_until="networkidle")
    return tab, errors, bad


@pytest.fixture(scope="module")
def visit(browser, site):
    """page -> Visit, each page loaded once: with every request recorded and MathJax done."""
    @functools.cache
    def load(page):
        tab, errors, bad = open_page(browser, f"{site}{page}.html")
        tab.evaluate("async () => { if (window.MathJax) await MathJax.startup.promise; }")
        state = tab.evaluate(PAGE_STATE)
        tab.context.close()
        return Visit(errors, bad, state)
    return load


@functools.cache
def fetch(url):
    """(status, body) of a same-origin URL, from Python rather than the browser."""
    try:
        with LOCAL.open(url, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, ""


@pytest.mark.parametrize("page", toc_pages())
def test_page_loads_with_no_console_error_and_no_request_off_the_machine(visit, page):
    result = visit(page)
    assert not result.bad_requests, result.bad_requests
    assert not result.console_errors, result.console_errors


@pytest.mark.parametrize("page", toc_pages())
def test_math_is_typeset_and_no_raw_tex_is_left(visit, page):
    state = visit(page).state
    assert not state["untypeset"], f"MathJax left these formulas as TeX: {state['untypeset'][:3]}"
    assert state["typeset"] >= state["formulas"]
    raw = sorted(set(RAW_MATH.findall(state["text"])))
    assert not raw, f"raw TeX in the visible text: {raw}"


def test_the_book_has_math_to_typeset(visit):
    assert any(visit(page).state["typeset"] for page in toc_pages())


@pytest.mark.parametrize("page", toc_pages())
def test_every_figure_loads(visit, page):
    images = visit(page).state["images"]
    broken = [src for src, width in images if not width]
    assert not broken, f"images that did not load: {broken}"


@pytest.mark.parametrize("page", toc_pages())
def test_every_internal_link_resolves_anchor_included(visit, site, page):
    internal = [link for link in visit(page).state["links"] if link.startswith(site)]
    assert internal, "a page of the book links to other pages of the book"
    for link in sorted(set(internal)):
        url, anchor = urldefrag(link)
        status, body = fetch(url)
        assert status == 200, f"{link} answers {status}"
        if anchor:
            assert unquote(anchor) in ID.findall(body), f"{link}: no element with that id"


@pytest.mark.parametrize("page", toc_pages())
def test_search_finds_the_page_by_a_word_of_its_title(browser, site, page):
    term = title_word(page)
    tab, errors, bad = open_page(browser, f"{site}search.html?q={term}")
    tab.wait_for_function(  # Sphinx's searchtools.js sets this title when the search is over
        "() => document.querySelector('#search-results h2')?.innerText === 'Search Results'")
    found = tab.eval_on_selector_all("#search-results ul.search a", "links => links.map(a => a.href)")
    tab.context.close()
    assert f"{site}{page}.html" in [urldefrag(link).url for link in found], (term, found)
    assert not errors and not bad, errors + bad


@pytest.mark.parametrize("page, assignment", CHAPTERS_WITH_ASSIGNMENTS)
def test_assignment_downloads_as_the_released_notebook_without_answers(
        browser, site, page, assignment, tmp_path):
    tab, errors, bad = open_page(browser, f"{site}{page}.html")
    with tab.expect_download() as download:
        tab.click(f'a.download[href$="/{assignment}.ipynb"]')
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    tab.context.close()
    assert not errors and not bad, errors + bad

    released = REPO / "autograder" / "release" / assignment / f"{assignment}.ipynb"
    assert path.name == released.name and path.read_bytes() == released.read_bytes()
    text = path.read_text()
    assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
    source = nbformat.read(REPO / "autograder" / "source" / assignment / f"{assignment}.ipynb", 4)
    answers = [line for _, code in included_solutions(assignment)
               for line in solution_statements(code)]
    leaked = [line for line in hidden_test_lines(source) + answers if line in text]
    assert not leaked, f"the downloaded notebook shows {leaked[:3]}"
    assert "raise NotImplementedError()" in text


def test_every_chapter_with_an_assignment_is_checked():
    assert CHAPTERS_WITH_ASSIGNMENTS, "the book links at least one assignment"

"""The built book: every chapter rendered with its figures and math, offline, and no answers."""

import html
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.course import assignment_names
from tests.conftest import REPO, solution_statements
from tests.test_assignments import included_solutions

HTML = REPO / "_build" / "html"
TAGS = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def book():
    """Release the assignments and build the book as `make book` does (cached execution)."""
    bin_dir = Path(sys.executable).parent
    for command in ([bin_dir / "cnnbook", "release", "--all"],
                    [bin_dir / "jupyter-book", "build", "--quiet", "-W", "."]):
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1200)
        assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return HTML


def toc_pages():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def page_text(path):
    return html.unescape(TAGS.sub("", path.read_text()))


@pytest.mark.parametrize("page", toc_pages())
def test_every_toc_page_is_built(book, page):
    assert (book / f"{page}.html").exists()


def test_convolution_chapter_has_its_sections_and_computed_results(book):
    text = page_text(book / "book" / "convolution.html")
    for heading in ["Cross-correlation", "Convolution or cross-correlation?", "Feature maps",
                    "Learning a kernel", "Receptive field", "Output size", "Assignment"]:
        assert heading in text
    assert "[[19., 25.],\n       [37., 43.]]" in text  # the worked example, computed
    assert "learned kernel [ 1. -1.]" in text
    assert "3x3 stride 2, then 3x3: (7, 7)" in text


def test_batchnorm_chapter_has_its_sections_and_computed_results(book):
    text = page_text(book / "book" / "batchnorm.html")
    for heading in ["Why normalize: conditioning", "The formula", "Training and evaluation",
                    "Where BN sits in a network", "Folding BN into the convolution",
                    "The backward pass", "Assignment"]:
        assert heading in text
    assert "PyTorch's running_var:         1.6000" in text  # momentum 0.1, unbiased variance
    assert "batch_norm's running_var:      1.6000" in text
    assert "eps inside the root:  [-0.775 -0.258  0.258  0.775]" in text
    assert re.search(r"max difference from conv \+ BN: \d\.\d+e-1[5-7]", text)


def test_masks_chapter_works_through_the_example_with_computed_numbers(book):
    text = page_text(book / "book" / "masks.html")
    for heading in ["Batching sentences needs padding", "Padding corrupts pooling and softmax",
                    "One convention: True means ignore", "The look-ahead mask",
                    "No gradient reaches the padding", "The other mask: segmentation"]:
        assert heading in text
    assert "{'<pad>': 0, 'I': 1, 'like': 2, 'cats': 3, 'He': 4, 'does': 5, 'not': 6}" in text
    assert "array([[1, 2, 3, 0, 0],\n       [4, 5, 6, 2, 3]])" in text
    assert "max with padding: 0.0  masked_max: -1.0" in text
    assert "softmax of -inf scores: [nan nan nan nan]" in text
    assert "masked_softmax:         [0. 0. 0. 0.]" in text
    assert "masked mean: gradient size per position [0.471 0.471 0.471 0.    0.   ]" in text


@pytest.mark.parametrize("chapter, figures", [("convolution", 2), ("batchnorm", 3), ("masks", 2)])
def test_figures_are_drawn_and_shipped(book, chapter, figures):
    page = (book / "book" / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= figures
    for src in images:
        assert (book / "book" / src).resolve().stat().st_size > 10_000


def test_math_is_served_locally(book):
    page = (book / "book" / "convolution.html").read_text()
    assert re.search(r'<script[^>]+src="../_static/mathjax/tex-chtml.js[?"]', page)
    assert (book / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    assert r"\lfloor" in page and 'class="math' in page


def test_no_page_loads_anything_from_the_network(book):
    for path in book.rglob("*.html"):
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="(https?:)?//[^"]*"',
                            path.read_text())
        assert not remote, f"{path} loads {remote}"


def solution_lines():
    """Distinctive lines of the reference code that students write themselves, every assignment."""
    for assignment in assignment_names():
        for _, source in included_solutions(assignment):
            yield from solution_statements(source)


def test_no_solution_or_hidden_test_reaches_the_book(book):
    lines = list(solution_lines())
    assert len(lines) > 5
    for path in list(book.rglob("*.html")) + list(book.rglob("*.ipynb")):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
        readable = html.unescape(TAGS.sub("", text)) if path.suffix == ".html" else text
        leaked = [line for line in lines if line in readable]
        assert not leaked, f"{path} shows solution code: {leaked[:2]}"


@pytest.mark.parametrize("chapter", ["convolution", "batchnorm", "masks"])
def test_assignment_is_downloadable_from_its_chapter(book, chapter):
    page = (book / "book" / f"{chapter}.html").read_text()
    link = re.search(rf'href="([^"]*_downloads/[^"]*{chapter}\.ipynb)"', page)
    assert link, "the chapter links to its assignment notebook"
    released = (book / "book" / link.group(1)).resolve()
    assert "raise NotImplementedError()" in released.read_text()

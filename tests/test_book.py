"""The built book: every chapter rendered with its figures and math, offline, and no answers."""

import html
import re

import pytest

from tests.conftest import solution_statements, toc_pages
from tests.test_assignments import ASSIGNMENTS, included_functions, included_solutions

TAGS = re.compile(r"<[^>]+>")


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


def test_pooling_chapter_has_its_sections_figures_and_computed_results(book):
    page = (book / "book" / "pooling.html").read_text()
    text = page_text(book / "book" / "pooling.html")
    for heading in ["Max pooling and average pooling", "Window, stride and padding",
                    "ceil_mode", "Channels, and no parameters", "Robustness to small shifts",
                    "Backward: where the gradient goes", "Assignment"]:
        assert heading in text
    assert "zero padding (wrong):\n [[ 0.  0.]\n [ 0. -6.]]" in text
    assert "MaxPool2d(3, stride=2):   0" in text
    assert "edge map: 100% of the non-zero outputs changed" in text
    assert text.count("same as autograd: True") == 2
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) == 4
    for src in images:
        assert (book / "book" / src).resolve().stat().st_size > 10_000
    assert re.search(r'href="[^"]*_downloads/[^"]*pooling\.ipynb"', page)


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
    """Distinctive lines of the reference code that students write themselves, in any
    assignment, less those that the helpers given to students show anyway."""
    given = {line for assignment in ASSIGNMENTS
             for _, source in included_functions(assignment, "provided")
             for line in solution_statements(source)}
    for assignment in ASSIGNMENTS:
        for _, source in included_solutions(assignment):
            yield from (line for line in solution_statements(source) if line not in given)


def test_no_solution_or_hidden_test_reaches_the_book(book):
    lines = list(solution_lines())
    assert len(lines) > 5
    pages = [*book.rglob("*.html"), *book.rglob("*.ipynb"), *(book / "_sources").rglob("*.md")]
    for path in pages:
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


CHAPTERS = {  # chapter -> (its section headings, results computed on the page)
    "padding": (["Border pixels take part in fewer windows", "Valid, same and full", "Why zeros?",
                 "The order of", "Odd kernels", "Even kernels: where the odd row goes"],
                ["no padding:  corner 1 edge 3 middle 9", "full : output 9x9",
                 "reflect  : [3. 2. 1. 2. 3. 2. 1.]  same as F.pad: True",
                 "pad (1, 2, 3, 4) of a 2x3 input: (9, 6) torch.Size([9, 6])",
                 " 4     3    1       2", "not supported for strided convolutions"]),
    "stride": (["A strided window", "The output size", "Stride as downsampling",
                "Stride and the receptive field"],
               ["conv2d with stride=(3, 2), padding=1 agrees: True",
                "rows never read: [6], (n - k) mod s = 1",
                "o == ceil(n / 2) for k=3, p=1, s=2 and every n < 300: True",
                "stride 4: (150, 128), the stride-1 map sampled every 4 pixels: True",
                "    3 |               7 |              15 | 7, 15"]),
    "multichannel": (["Several input channels", "Several output channels",
                      "The layer: weight, bias, batch", "Counting parameters", "Colour edges"],
                     ["= the sum of the per-channel results: True", "PyTorch agrees: True",
                      "the bias adds b[m] to every pixel of channel m: True",
                      "   3   64   224 |      1,792      1,792 |",
                      "channel 0 is the Sobel map of the grey image: True"]),
    "onebyone": (["The same small matrix at every pixel", "A fully connected layer",
                  "Example: colour to grey", "Reducing channels: the bottleneck"],
                 ["reference: conv2d vs conv1x1 (built on linear), max difference 0.0",
                  "parameters 18 = 18", "same as rgb @ luma: True",
                  "the bottleneck costs 11.9% of the parameters"]),
}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_has_its_sections_computed_results_and_figures(book, chapter):
    headings, results = CHAPTERS[chapter]
    text = page_text(book / "book" / f"{chapter}.html")
    for expected in headings + results + ["Assignment"]:
        assert expected in text, f"{chapter}: {expected!r} missing"
    page = (book / "book" / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert len(images) >= 2
    for src in images:
        assert (book / "book" / src).resolve().stat().st_size > 10_000


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_links_its_released_assignment(book, chapter):
    page = (book / "book" / f"{chapter}.html").read_text()
    link = re.search(rf'href="([^"]*_downloads/[^"]*/{chapter}\.ipynb)"', page)
    assert link, f"{chapter} links to its assignment notebook"
    assert "raise NotImplementedError()" in (book / "book" / link.group(1)).resolve().read_text()

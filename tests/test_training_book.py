"""The training chapters in the built book: computed results, figures, assignment links, no answers."""

import inspect
import re

import pytest

import solutions.schedules
import solutions.train
import solutions.transfer
from tests.conftest import solution_statements
from tests.test_book import page_text

CHAPTERS = {  # page -> text computed by its code that must be on the page
    "training": ["LeNet-5: 60850 parameters", "61706 parameters, 416,520 multiply-accumulates",
                 "test accuracy 0.9", "['config', 'history', 'model', 'optimizer', 'rng']"],
    "initialization": ["fan_in, fan_out = (576, 1152)  torch: (576, 1152)", "PyTorch default"],
    "dropout": ["eval mode:  tensor([1., 1., 1., 1., 1., 1., 1., 1.])", "std of the fraction"],
    "schedules": ["step (s = 10)      largest difference from PyTorch: 0.0e+00"],
    "transfer": ["frozen features", "does not fit this model",
                 "0.weight: file has (6, 3, 5, 5), model has (6, 1, 5, 5)"],
    "architectures": ["138,357,544", "11,689,512", "7,978,856", "4,231,976", "60,850"],
}
ASSIGNMENT_LINKS = {"training": "training", "schedules": "training", "transfer": "transfer"}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_shows_its_computed_results(book, chapter):
    text = page_text(book / "book" / f"{chapter}.html")
    for expected in CHAPTERS[chapter]:
        assert expected in text, f"{chapter}: {expected!r} missing"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_figures_are_drawn(book, chapter):
    page = (book / "book" / f"{chapter}.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', page)
    assert images, f"{chapter} has no figure"
    for src in images:
        assert (book / "book" / src).resolve().stat().st_size > 3_000  # a drawn figure, not a blank


@pytest.mark.parametrize("chapter, assignment", ASSIGNMENT_LINKS.items())
def test_assignment_is_downloadable_from_its_chapter(book, chapter, assignment):
    page = (book / "book" / f"{chapter}.html").read_text()
    link = re.search(rf'href="([^"]*_downloads/[^"]*{assignment}\.ipynb)"', page)
    assert link, f"{chapter} links to {assignment}.ipynb"
    assert "raise NotImplementedError()" in (book / "book" / link.group(1)).resolve().read_text()


def test_no_answer_of_the_training_assignments_reaches_the_book(book):
    functions = [solutions.train.train_epoch, solutions.train.evaluate,
                 solutions.schedules.cosine_annealing_lr, solutions.transfer.replace_head,
                 solutions.transfer.freeze_features, solutions.transfer.fine_tune]
    lines = [line for f in functions for line in solution_statements(inspect.getsource(f))]
    assert len(lines) > 8
    for path in list(book.rglob("*.html")) + list(book.rglob("*.ipynb")):
        text = path.read_text()
        leaked = [line for line in lines if line in text]
        assert not leaked, f"{path} shows solution code: {leaked[:2]}"

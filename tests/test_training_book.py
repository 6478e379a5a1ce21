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
    "architectures": ["138,357,544", "11,689,512", "7,978,856", "4,231,976", "60,850",
                      "of 61,100,840 parameters (62%)", "the 3 fully connected layers: 96%"],
    "distributed": ["average_gradients        ranks identical: True",
                    "DistributedDataParallel  ranks identical: True",
                    "10 examples on 3 ranks: [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]",
                    "40 steps per epoch", "10 steps per epoch"],
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


def test_distributed_chapter_claims_what_its_numbers_show(book):
    text = page_text(book / "book" / "distributed.html")
    gaps = [float(gap) for gap in re.findall(r"from one process: (\d\.\de[+-]\d+)", text)]
    assert len(gaps) == 2 and max(gaps) < 1e-6  # "equal up to float32 rounding"
    accuracy = dict(re.findall(r"(batch \d+, lr [\d.]+)[^\n]*validation accuracy (\d\.\d+)", text))
    base, unscaled, scaled = (float(accuracy[name]) for name in
                              ["batch 32, lr 0.01", "batch 128, lr 0.01", "batch 128, lr 0.04"])
    assert unscaled < 0.6 < scaled < base  # "barely started"; "most of the accuracy back, not all"
    synced = re.findall(r"synced mean (\[[^\]]*\])", text)
    own = re.findall(r"own mean (\[[^\]]*\])", text)
    assert len(synced) == 2 and synced[0] == synced[1] and own[0] != own[1]

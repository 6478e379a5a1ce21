"""What the grader reads of a submission and writes of a grade, one rule at a time."""

import os

import nbformat
import pytest

from autograder import grade
from autograder.submission import MAX_CELL, MAX_FILE, read_bytes, read_submission


def notebook_bytes(*sources):
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in sources])).encode()


def test_a_regular_file_is_read_whole(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_bytes(notebook_bytes("x = 1"))
    assert read_submission(read_bytes(path)).cells[0].source == "x = 1"


@pytest.mark.parametrize("make, reason", [
    (lambda path: path.symlink_to("/proc/self/mem"), "links are not followed"),
    (lambda path: path.mkdir(), "not a regular file"),
    (lambda path: os.truncate(path.open("wb").name, MAX_FILE + 1), "larger than 20 MB"),
])
def test_what_is_not_a_small_regular_file_is_refused_unread(tmp_path, make, reason):
    path = tmp_path / "a.ipynb"
    make(path)
    with pytest.raises(ValueError, match=reason):
        read_bytes(path)


@pytest.mark.parametrize("content, reason", [
    (b"", "not a readable Jupyter notebook"),
    (notebook_bytes(), "no cells"),
    (notebook_bytes("x" * (MAX_CELL + 1)), "cell 1 has 100,001 characters"),
])
def test_an_unreadable_notebook_says_why(content, reason):
    with pytest.raises(ValueError, match=reason):
        read_submission(content)


@pytest.mark.parametrize("metadata", ["a string", {"grade_id": ["a", "list"]}])
def test_malformed_nbgrader_metadata_is_named(metadata):
    nb = nbformat.reads(notebook_bytes("x = 1").decode(), 4)
    nb.cells[0].metadata["nbgrader"] = metadata
    with pytest.raises(ValueError, match="cell 1 has malformed nbgrader metadata"):
        read_submission(nbformat.writes(nb).encode())


def test_a_new_seed_or_new_hidden_tests_mean_a_new_grade(monkeypatch, course):
    monkeypatch.setattr(grade, "COURSE_DIR", course.root)
    monkeypatch.setattr(grade, "source_notebook_path",
                        lambda name: course.root / "source" / name / f"{name}.ipynb")
    stamps = []
    for secret in ["", "one secret", "another secret"]:
        monkeypatch.setenv("CNNBOOK_HIDDEN_SEED", secret)
        grade.assignment_digest.cache_clear()
        stamps.append(grade.fingerprint(b"the same notebook", "convolution"))
    assert len(set(stamps)) == 3
    assert grade.fingerprint(b"the same notebook", "convolution") == stamps[-1]
    assert grade.fingerprint(None, "convolution") != stamps[-1]
    grade.assignment_digest.cache_clear()


@pytest.mark.parametrize("value, shown", [
    ("=HYPERLINK(\"example.com\")", "'=HYPERLINK(\"example.com\")"), ("+1", "'+1"),
    ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("alice", "alice"), ("", ""),
])
def test_a_cell_that_would_be_a_formula_is_text(value, shown):
    assert grade.spreadsheet_cell(value) == shown


def test_a_long_reason_is_cut_at_a_word():
    reason = "failed: " + "conv2d with a kernel as large as the input: wrong values; " * 20
    cut = grade.shorten(reason, 100)
    assert len(cut) <= 100 and cut.endswith("...") and reason.startswith(cut[:-3])
    assert not cut[:-3].endswith(("wron", "kern"))


def test_any_name_gives_a_file_name_the_file_system_takes():
    assert grade.file_name("alice") == "alice"
    long = grade.file_name("n" * 300)
    assert len(long.encode()) <= 200 and long != grade.file_name("n" * 299)

"""The execution cache: rebuilding the book re-executes only what changed, here nothing."""

import os
import re

from jupyter_cache import get_cache

from tests.conftest import REPO, build_book, toc_pages

CACHE = REPO / "_build" / ".jupyter_cache"  # execute.cache in _config.yml


def executed_pages():
    """The pages of _toc.yml with code cells: the ones executed at build time."""
    return [page for page in toc_pages() if "```{code-cell}" in (REPO / f"{page}.md").read_text()]


def cache_records():
    """Every cached execution: (id, hash of the notebook's code, when it was stored)."""
    return {(record.pk, record.hashkey, record.created)
            for record in get_cache(CACHE).list_cache_records()}


def test_a_rebuild_with_nothing_changed_executes_nothing(book):
    pages = executed_pages()
    assert pages, "the book has executed chapters"
    before = cache_records()
    for page in toc_pages():
        os.utime(REPO / f"{page}.md")  # newer files: Sphinx reads every page again

    log = build_book()

    assert "Executing notebook" not in log
    for page in pages:
        assert re.search(rf"{re.escape(str(REPO / page))}\.md: Using cached notebook: ID=\d+", log)
    assert cache_records() == before  # nothing executed, so nothing new was stored

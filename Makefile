# Two commands: `make book` builds the course, `make test` checks it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup assignments book browser test bench lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Instructor notebooks from autograder/assignments/ + solutions/, then nbgrader's release.
assignments: setup
	$(BIN)/cnnbook release --all

# Built twice: the second build, with nothing changed, shows what the execution cache saves.
book: assignments
	@cache=$$(test -e _build/.jupyter_cache/global.db && echo "cache had results" || echo "cold, empty cache"); \
	t0=$$(date +%s.%N); $(BIN)/jupyter-book build --quiet -W . || exit 1; \
	t1=$$(date +%s.%N); $(BIN)/jupyter-book build --quiet -W . || exit 1; \
	t2=$$(date +%s.%N); \
	awk -v c="$$cache" -v a="$$t0" -v b="$$t1" -v e="$$t2" 'BEGIN { \
	  printf "Book built in %.1f s (%s); rebuilt with nothing changed in %.1f s (warm)\n", b - a, c, e - b }'; \
	echo "Open _build/html/index.html"

# The browser tests drive Debian's Chromium (never a downloaded browser).
browser:
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y --no-install-recommends chromium; }

test: setup browser
	$(BIN)/python -m pytest

# Reference code vs PyTorch, grader throughput, book build times -> benchmarks/results.md.
bench: assignments
	$(BIN)/python benchmarks/run.py

# Re-pin every package after a change to pyproject.toml's dependencies.
lock: setup
	{ echo "# Exact versions for a reproducible .venv; regenerate with 'make lock' after changing pyproject.toml."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.txt

clean:
	rm -rf _build autograder/source autograder/release autograder/autograded autograder/feedback autograder/gradebook.db

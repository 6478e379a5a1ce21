# Two commands: `make book` builds the course, `make test` checks it. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup assignments book test lock clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Instructor notebooks from autograder/assignments/ + solutions/, then nbgrader's release.
assignments: setup
	$(BIN)/cnnbook release --all

book: assignments
	@start=$$(date +%s); \
	$(BIN)/jupyter-book build --quiet -W . && \
	echo "Book built in $$(( $$(date +%s) - start )) s: open _build/html/index.html"

test: setup
	$(BIN)/python -m pytest

# Re-pin every package after a change to pyproject.toml's dependencies.
lock: setup
	{ echo "# Exact versions for a reproducible .venv; regenerate with 'make lock' after changing pyproject.toml."; \
	  $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > constraints.txt

clean:
	rm -rf _build autograder/source autograder/release autograder/autograded autograder/feedback autograder/gradebook.db

"""cnnbook's grading tooling: assignment notebooks generated from readable sources, released and
graded with nbgrader. The course directory (nbgrader's standard layout) is this folder."""

import os
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSIGNMENTS_DIR = PACKAGE_DIR / "assignments"
#: The nbgrader course directory (source/, release/, submitted/, autograded/, feedback/ and
#: gradebook.db): this folder, unless CNNBOOK_COURSE_DIR names another (the tests use one).
COURSE_DIR = Path(os.environ.get("CNNBOOK_COURSE_DIR", PACKAGE_DIR)).resolve()

# nbgrader's Gradebook runs the `alembic` script by name; make this environment's scripts
# findable even when the virtual environment is not activated (e.g. `.venv/bin/cnnbook`).
_scripts = os.path.dirname(sys.executable)
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _scripts + os.pathsep + os.environ.get("PATH", "")

"""nbgrader's configuration for the cnnbook course directory (this folder).

It serves `cnnbook release` (nbgrader's generate_assignment) and an instructor who runs nbgrader
or its formgrader by hand; ``COURSE_ROOT`` in the environment names another course directory.
`cnnbook grade` runs submissions itself (see autograder/grade.py).
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cnnbook"
c.CourseDirectory.root = os.environ.get("COURSE_ROOT", str(Path(__file__).resolve().parent))
c.CourseDirectory.db_url = "sqlite:///" + str(Path(c.CourseDirectory.root) / "gradebook.db")
c.CourseDirectory.assignment_id = ""
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Feedback never shows hidden test code, hidden inputs or their tracebacks.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from autograder.feedback import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

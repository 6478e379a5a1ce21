"""nbgrader's configuration for the cnnbook course directory (this folder).

`cnnbook grade` copies this file into each submission's private course directory, where
``COURSE_ROOT`` is set by the environment, so one configuration serves both.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by nbgrader when it loads this file

c.CourseDirectory.course_id = "cnnbook"
c.CourseDirectory.root = os.environ.get("COURSE_ROOT", str(Path(__file__).resolve().parent))
c.CourseDirectory.db_url = "sqlite:///" + str(Path(c.CourseDirectory.root) / "gradebook.db")
c.CourseDirectory.assignment_id = ""
# Interrupt a cell that runs past this many seconds and go on with the next one.
c.Execute.timeout = int(os.environ.get("CNNBOOK_CELL_TIMEOUT", "60"))
c.Execute.interrupt_on_timeout = True
# A cell that prints hundreds of megabytes may be slow to deliver: wait, don't fail the notebook.
c.Execute.raise_on_iopub_timeout = False
c.Execute.iopub_timeout = 30
# Kernels talk to nbgrader over Unix sockets, so a sandboxed kernel needs no network at all.
c.KernelManager.transport = "ipc"
c.KernelManager.ip = str(Path(c.CourseDirectory.root) / "kernel")  # absolute: kernel and grader agree
# Keep at most this much of what a cell prints (a submission may print hundreds of megabytes).
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Feedback never shows hidden test code, hidden inputs or their tracebacks.
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from autograder.feedback import HideHiddenTests  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

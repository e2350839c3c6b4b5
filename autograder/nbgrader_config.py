"""nbgrader configuration of the course (the course root is this folder).

Everything nbgrader builds here (source/, release/, submitted/, autograded/,
feedback/, gradebook.db) is generated from ../solutions by `make student` or the
grading scripts and is git-ignored.
"""
c = get_config()  # noqa: F821  (injected by traitlets)

c.CourseDirectory.course_id = "dlcv"

# The stub a student sees in place of a solution region. A message (rather than a bare
# NotImplementedError()) tells the student what to do when a visible test trips on it.
c.ClearSolutions.code_stub = {
    "python": 'raise NotImplementedError("Exercise: replace this line with your code")',
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# nbgrader scores a graded cell 0 as soon as it writes anything to stderr, so a
# harmless warning (a deprecation, a tqdm bar) would zero a correct answer. A failing
# test always shows up as an *error* output, never as stderr, so stderr is never a
# verdict: drop it from graded cells before grading.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"[\s\S]"

# Generous per-cell limit: training cells run in quick mode while grading (DLCV_QUICK=1).
c.Execute.timeout = 300
c.Execute.interrupt_on_timeout = True

# A test cell deleted from a submission (or stripped of its metadata) is put back and
# graded instead of being silently skipped.
c.OverwriteCells.add_missing_cells = True

c.LimitOutput.max_lines = 1000

"""nbgrader settings of an instructor's server on the course Hub (JUPYTER_CONFIG_PATH points here).

The formgrader works in ~/dlcv-course, the folder that `python -m autograder.tools.hub
release ... --course-dir ~/dlcv-course` prepares; grading itself is `make autograde`.
"""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("DLCV_COURSE_ID", "dlcv")
c.CourseDirectory.root = os.path.expanduser("~/dlcv-course")
c.Exchange.root = os.environ.get("DLCV_EXCHANGE", "/srv/nbgrader/exchange")

"""nbgrader settings of a student's server on the course Hub (JUPYTER_CONFIG_PATH points here).

The Hub sets DLCV_EXCHANGE and DLCV_COURSE_ID (autograder/tools/hub.py); in an image for
Zero to JupyterHub this file goes to /etc/jupyter/nbgrader_config.py.
"""
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("DLCV_COURSE_ID", "dlcv")
c.Exchange.root = os.environ.get("DLCV_EXCHANGE", "/srv/nbgrader/exchange")

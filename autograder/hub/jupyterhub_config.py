"""JupyterHub configuration of the course Hub: `make hub`, tests/test_hub.py.

`python -m autograder.tools.hub serve ...` writes the settings (a JSON file named by
$DLCV_HUB_SETTINGS, see autograder.tools.hub.HubSettings) and starts JupyterHub with this
file. README "Students on a JupyterHub" maps each setting onto Zero to JupyterHub.
"""
import json
import os
import sys
from pathlib import Path

settings_file = os.environ["DLCV_HUB_SETTINGS"]
s = json.loads(Path(settings_file).read_text())
sys.path.insert(0, s["repo"])
from autograder.tools.hub import CourseSpawner  # noqa: E402

c = get_config()  # noqa: F821
state = Path(s["state"])

# The proxy (configurable-http-proxy from npm) is public; the Hub listens on localhost.
c.JupyterHub.ip = s["ip"]
c.JupyterHub.port = s["port"]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s["hub_port"]
c.ConfigurableHTTPProxy.command = [s["proxy"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s['proxy_api_port']}"
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")

# Who: Unix accounts through PAM (the default authenticator).
c.Authenticator.allowed_users = set(s["students"]) | set(s["instructors"])
if s["student_group"]:
    c.Authenticator.allowed_groups = {s["student_group"]}
c.Authenticator.admin_users = set(s["instructors"])

# Each user's JupyterLab runs as that user (autograder.tools.hub.CourseSpawner): a
# student's sees no solution, and nbgrader's Assignments tab talks to the exchange.
c.JupyterHub.spawner_class = CourseSpawner
c.CourseSpawner.settings_file = settings_file
c.Spawner.cmd = [s["python"], "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180

# Scripts and tests drive the Hub through its REST API with a service token.
if s.get("api_token"):
    c.JupyterHub.services = [{"name": "dlcv-admin", "api_token": s["api_token"]}]
    c.JupyterHub.load_roles = [{"name": "dlcv-admin", "services": ["dlcv-admin"],
                                "scopes": ["admin:users", "admin:servers", "tokens", "access:servers", "list:users",
                                           "read:users"]}]

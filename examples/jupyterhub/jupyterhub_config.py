# JupyterHub 6 configuration for a workshop with webrepl-kernel: one hub on loopback, a
# single-user JupyterLab per learner, each learner's kernel on the board the board map gives them.
#
# scripts/hub.sh (`make hub`, and the hub section of `make bench`) sets the WEBREPL_HUB_* variables
# below and starts `jupyterhub -f examples/jupyterhub/jupyterhub_config.py`; docs/classroom.md says
# what to change for a real class (authenticator, spawner, address, TLS).
#
#   WEBREPL_HUB_WORK        folder for the hub's database, cookie secret, logs and learners' homes
#   WEBREPL_HUB_PORT        the hub's public port on 127.0.0.1 (default 8000)
#   WEBREPL_HUB_API_PORT    the hub's own port (8081) and the proxy's API port (8001), both on
#   WEBREPL_HUB_PROXY_API_PORT  127.0.0.1
#   WEBREPL_HUB_LEARNERS    comma-separated learner names allowed to log in
#   WEBREPL_HUB_PASSWORD    the learners' shared password (SharedPasswordAuthenticator; a try only)
#   WEBREPL_HUB_LESSONS     folder whose *.ipynb are copied into each new learner's home
#   WEBREPL_BOARDS          the board map, passed on to every learner's server and so their kernels
#   WEBREPL_HUB_CULL_AFTER  seconds of inactivity after which the idle culler stops a server (3600)
#   WEBREPL_HUB_ADMIN_TOKEN optional: an API token for a service with the admin role (the load test)
#   WEBREPL_HUB_PROXY       the configurable-http-proxy executable (examples/jupyterhub/node_modules)
import os
import shutil
import signal
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner

c = get_config()  # noqa: F821 (JupyterHub defines it when it loads this file)

work = Path(os.environ["WEBREPL_HUB_WORK"])
learners = [n for n in os.environ.get("WEBREPL_HUB_LEARNERS", "").split(",") if n]
lessons = Path(os.environ["WEBREPL_HUB_LESSONS"])

# Loopback only: the proxy's public side, the hub's own API and the proxy's API.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = int(os.environ.get("WEBREPL_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("WEBREPL_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:%d" % int(os.environ.get("WEBREPL_HUB_PROXY_API_PORT", "8001"))
c.ConfigurableHTTPProxy.command = [os.environ.get("WEBREPL_HUB_PROXY", "configurable-http-proxy")]
c.JupyterHub.db_url = "sqlite:///" + str(work / "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = str(work / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(work / "jupyterhub.pid")
# Stopping the hub stops every learner's server (and so their kernels, which log out of the boards).
c.JupyterHub.cleanup_servers = True

# A try: every listed learner logs in with one shared password. JupyterHub 5.3 replaced
# DummyAuthenticator's password with SharedPasswordAuthenticator (at least 8 characters), which
# only lets the allowed users in. For a real class use an authenticator that knows your learners
# (docs/classroom.md): PAM (the default, system users), NativeAuthenticator, or OAuthenticator with
# your school's login.
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["WEBREPL_HUB_PASSWORD"]
c.Authenticator.allowed_users = set(learners)

# The spawner. Here the hub runs as root on a machine without a system user per learner, so
# SimpleLocalProcessSpawner: each learner's server is a local process (jupyterhub-singleuser) in
# a home folder of its own under WEBREPL_HUB_WORK, run as the hub's user. It gives no isolation
# between learners, which is why it is only for a try. On a real single machine use
# LocalProcessSpawner (the default: one system user per learner, the hub as root) or
# SystemdSpawner as The Littlest JupyterHub does; on Kubernetes KubeSpawner (Zero to JupyterHub).


class KernelsFirstSpawner(SimpleLocalProcessSpawner):
    """Stops a server with SIGTERM first. LocalProcessSpawner begins with SIGINT, which a Jupyter
    server without a terminal (jupyter_server 2 installs its SIGINT handler only on a tty) takes
    as KeyboardInterrupt: it exits without shutting its kernels down, and each orphaned kernel
    keeps its board's one WebREPL connection. On SIGTERM the server shuts its kernels down (they
    log out of their boards) and exits. The same applies to LocalProcessSpawner and
    SystemdSpawner; KubeSpawner's pods get SIGTERM anyway."""

    async def stop(self, now=False):
        if not now and await self.poll() is None:
            await self._signal(signal.SIGTERM)
            await self.wait_for_death(self.term_timeout)
        await super().stop(now=now)


c.JupyterHub.spawner_class = KernelsFirstSpawner
c.Spawner.term_timeout = 30
c.SimpleLocalProcessSpawner.home_dir_template = str(work / "home" / "{username}")
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/01-hello-board.ipynb"
c.Spawner.cmd = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
c.Spawner.args = ["--MappingKernelManager.default_kernel_name=micropython-webrepl"]
if os.environ.get("WEBREPL_HUB_EXPOSE_APP"):
    c.Spawner.args.append("--LabApp.expose_app_in_browser=True")  # tests/browser/hub.test.mjs looks into the page
if os.geteuid() == 0:
    c.Spawner.args.append("--allow-root")  # SimpleLocalProcessSpawner runs servers as the hub's user
c.Spawner.start_timeout = 120  # thirty servers starting at once on two cores
c.Spawner.http_timeout = 120
# The board map reaches every learner's kernel through its server's environment; JupyterHub sets
# JUPYTERHUB_USER, which the kernel looks up in the map.
c.Spawner.environment = {"WEBREPL_BOARDS": os.environ["WEBREPL_BOARDS"]}
# Thirty learners: the proxy and the hub must not turn concurrent spawns away.
c.JupyterHub.concurrent_spawn_limit = 0
c.JupyterHub.active_server_limit = 0


def copy_lessons(spawner):
    """Copies the lesson set into a learner's home the first time their server starts; a lesson
    the learner already has (and may have changed) is left as it is."""
    home = Path(spawner.home_dir)
    home.mkdir(parents=True, exist_ok=True)
    for nb in sorted(lessons.glob("*.ipynb")):
        dest = home / nb.name
        if not dest.exists():
            shutil.copyfile(nb, dest)


c.Spawner.pre_spawn_hook = copy_lessons

# The idle culler, as a hub-managed service: a server nobody used for WEBREPL_HUB_CULL_AFTER
# seconds is stopped (its kernel logs out of the board), so a forgotten tab does not hold a board.
cull_after = int(os.environ.get("WEBREPL_HUB_CULL_AFTER", "3600"))
c.JupyterHub.services = [
    {
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=%d" % cull_after],
    }
]
c.JupyterHub.load_roles = [
    {
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    }
]
admin_token = os.environ.get("WEBREPL_HUB_ADMIN_TOKEN")
if admin_token:
    # The load test (bench/hub.go) creates learners and their tokens and starts their servers.
    c.JupyterHub.services.append({"name": "webrepl-bench", "api_token": admin_token})
    c.JupyterHub.load_roles.append({"name": "admin", "services": ["webrepl-bench"]})

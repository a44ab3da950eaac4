# JupyterHub's configuration for tre-kit: everything comes from the tre instance ($TRE_HOME).
# Run with: jupyterhub -f hub/jupyterhub_config.py   (`make up` does this for the demo).
import os

from hub.config import configure
from tre.instance import open_instance

c = get_config()  # noqa: F821 (JupyterHub provides it)
configure(
    c,
    open_instance(os.environ.get("TRE_HOME")),
    os.environ.get("TRE_HUB_URL", "http://127.0.0.1:8000"),
)

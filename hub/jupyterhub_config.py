# JupyterHub's configuration for tre-kit: everything comes from the tre instance ($TRE_HOME).
# Run with: jupyterhub -f hub/jupyterhub_config.py   (`make up` does this for the demo).
import os
from typing import TYPE_CHECKING

from hub.config import configure
from tre.instance import open_instance

if TYPE_CHECKING:
    from traitlets.config import Config

    # JupyterHub runs this file with get_config in its namespace; declared here for mypy only
    def get_config() -> Config: ...


c = get_config()
configure(
    c,
    open_instance(os.environ.get("TRE_HOME")),
    os.environ.get("TRE_HUB_URL", "http://127.0.0.1:8000"),
)

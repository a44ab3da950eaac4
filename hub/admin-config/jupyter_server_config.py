# The workspace's JupyterLab, where a path must be computed (jupyter_server_config.json holds the
# rest): the kit's settings defaults (lab-settings/overrides.json: new notebooks start the one
# kernel without asking) and its own JupyterLab extension (labextensions/@tre-kit/workspace: the
# banner and Run with provenance), both beside this file, read-only in the sandbox.
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from traitlets.config import Config

    # Jupyter runs this file with get_config in its namespace; declared here for mypy only
    def get_config() -> Config: ...


c = get_config()
HERE = Path(__file__).resolve().parent
c.LabApp.app_settings_dir = str(HERE / "lab-settings")
c.LabApp.extra_labextensions_path = [str(HERE / "labextensions")]

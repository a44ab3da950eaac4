"""The safe setting: JupyterHub's configuration and hooks, the workspace lockdown, the tre web
service and the deployment profiles."""

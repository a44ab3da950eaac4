"""projects: the registry and policy engine, the one place that decides who may do what."""

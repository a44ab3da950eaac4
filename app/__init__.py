"""The roof: the composition of every package (the CLI, status, the table registry, migrations,
the demo and `make up`). Nothing below imports it."""

"""The runner's overhead against plain papermill on the same notebook and data.

Target: `notebooks.run` (policy check, parameter check, extract re-hashing, provenance record,
two HTML reports, RO-Crate and BagIt bag) costs at most 1.2x `papermill.execute_notebook` of the
same study with the same environment. Baseline in the same process: papermill alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import report

from app.demo import linkage as demo_linkage
from app.demo import projects as demo_projects
from app.demo.data import generate
from app.schema import init_instance
from notebooks import runner, runs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--study", default="service-demand")
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        instance = init_instance(base / "instance", actor="ops")
        generate(options.people, 2026, base / "town")
        from datetime import date

        today = date(2026, 6, 1)
        demo_projects.populate(instance, "ops", today)
        project = demo_projects.approve_project(instance)
        demo_linkage.run(instance, base / "town", "ops", project)
        notebook = runner.studies()[options.study]
        policy = instance.settings.policy.stricter(threshold=10)
        plain, ours = [], []
        for i in range(options.repeat):
            out = base / f"plain-{i}"
            out.mkdir()
            # plain papermill: the same extract and policy, no sandbox, no provenance
            env = runner.environment(project, policy.to_json()) | {
                "PATH": os.environ["PATH"],
                "TRE_DATA": str(instance.home / "projects" / project / "data"),
                "TRE_OUTPUTS": str(out),
            }
            saved = dict(os.environ)
            os.environ.update(env)
            started = time.perf_counter()
            papermill.execute_notebook(
                str(notebook), str(out / "out.ipynb"), progress_bar=False, cwd=str(out)
            )
            plain.append(time.perf_counter() - started)
            os.environ.clear()
            os.environ.update(saved)
            started = time.perf_counter()
            result = runner.run(instance, options.study, project, "alex.analyst", at=today)
            ours.append(time.perf_counter() - started)
            assert result.status == runs.SUCCEEDED, result.error
        report(
            "runner",
            study=options.study,
            people=options.people,
            papermill_s=round(statistics.median(plain), 2),
            runner_s=round(statistics.median(ours), 2),
            ratio=round(statistics.median(ours) / statistics.median(plain), 3),
            target="<= 1.2",
        )


if __name__ == "__main__":
    main()

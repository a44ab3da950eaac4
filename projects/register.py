"""The public transparency register: every project past draft, as HTML, CSV and JSON.

The HTML page works without JavaScript (a plain, accessible table); with it, a search box filters
the rows. No person is named unless the operator's settings allow it.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from projects import registry
from projects.models import Person
from projects.policy import effective_state
from projects.states import State

# (session, project id) -> the project's release dates. The airlock lies above the registry, so
# the composition root hands its counter in (``output_checks.release_dates``); without one the
# register has no release columns.
ReleaseDates = Callable[[Session, str], list[str]]


def entries(
    session: Session,
    show_names: bool = False,
    at: date | None = None,
    releases: ReleaseDates | None = None,
) -> list[dict]:
    at = at or date.today()
    catalogue = registry.gateways(session)
    out = []
    for found in registry.projects(session):
        if found.state == State.DRAFT:  # the register shows projects past draft
            continue
        spec = found.current.spec
        lead = session.get_one(Person, found.current.lead_id)
        data = []
        controllers = set()
        for dataset_id in registry.requested_datasets(found):
            ds = registry.dataset(session, dataset_id)
            controllers.add(ds.controller.name)
            classes = {item.name: item.classification for item in ds.items}
            requested = [i.item for i in found.current.items if i.dataset_id == dataset_id]
            by_class: dict[str, list[str]] = {}
            for item in requested:
                by_class.setdefault(classes[item].replace("_", "-"), []).append(item)
            data.append({"dataset": ds.title, "controller": ds.controller.name, "items": by_class})
        basis = spec["legal_basis"]
        entry: dict[str, Any] = {
            "id": found.id,
            "title": spec["title"],
            "lay_summary": spec["lay_summary"],
            "purpose": spec["purpose"],
            "category": spec["category"],
            "public_benefit": spec["public_benefit"],
            "lead_organisation": lead.organisation.name,
            "controllers": sorted(controllers),
            "datasets": data,
            "legal_basis": [
                catalogue[c].name
                for c in [basis["article_6"]]
                + ([basis["article_9"]] if basis.get("article_9") else [])
                + [basis["confidentiality"]]
                if c in catalogue
            ],
            "gateways": [catalogue[c].name for c in basis["gateways"] if c in catalogue],
            "start": spec["start"],
            "end": spec["end"],
            "status": effective_state(found, at).value,
            "version": found.version,
            "onward_sharing": spec["onward_sharing"],
            "commercial_use": spec["commercial_use"],
        }
        if releases is not None:
            dates = sorted(releases(session, found.id))
            entry["releases"] = len(dates)
            entry["release_dates"] = dates
        if show_names:
            entry["lead"] = lead.name
        out.append(entry)
    return out


def _datasets_text(entry: dict) -> str:
    parts = []
    for data in entry["datasets"]:
        items = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in data["items"].items())
        parts.append(f"{data['dataset']} ({data['controller']}) — {items}")
    return " | ".join(parts)


def publish(
    session: Session,
    out: Path,
    instance_name: str,
    show_names: bool = False,
    at: date | None = None,
    releases: ReleaseDates | None = None,
) -> dict[str, Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = entries(session, show_names, at, releases)
    paths = {"json": out / "register.json", "csv": out / "register.csv", "html": out / "index.html"}
    paths["json"].write_text(
        json.dumps(
            {
                "register": instance_name,
                "published": (at or date.today()).isoformat(),
                "projects": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    columns = [
        "id",
        "title",
        "status",
        "category",
        "lead_organisation",
        "controllers",
        "datasets",
        "legal_basis",
        "gateways",
        "start",
        "end",
        "purpose",
        "public_benefit",
        "lay_summary",
        "onward_sharing",
        "commercial_use",
    ]
    if releases is not None:
        columns += ["releases"]
    if show_names:
        columns += ["lead"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        flat = dict(
            row,
            controllers="; ".join(row["controllers"]),
            datasets=_datasets_text(row),
            legal_basis="; ".join(row["legal_basis"]),
            gateways="; ".join(row["gateways"]),
        )
        writer.writerow([flat.get(c, "") for c in columns])
    paths["csv"].write_text(buffer.getvalue(), encoding="utf-8")
    paths["html"].write_text(_page(rows, instance_name, at or date.today()), encoding="utf-8")
    return paths


def _page(rows: list[dict], name: str, at: date) -> str:
    e = html.escape
    body = []
    for row in rows:
        datasets = "".join(
            f"<li>{e(d['dataset'])} <span class='muted'>({e(d['controller'])})</span><ul>"
            + "".join(
                f"<li>{e(kind)}: {e(', '.join(items))}</li>" for kind, items in d["items"].items()
            )
            + "</ul></li>"
            for d in row["datasets"]
        )
        releases = (
            (
                f"<dt>Releases</dt><dd>{row['releases']}"
                f"{' (' + e(', '.join(row['release_dates'])) + ')' if row['releases'] else ''}"
                "</dd>"
            )
            if "releases" in row
            else ""
        )
        lead = f"<dt>Lead</dt><dd>{e(row['lead'])}</dd>" if "lead" in row else ""
        body.append(f"""<article class="project" data-search="{e(json.dumps(row).lower())}">
<h2 id="{e(row["id"])}">{e(row["title"])}</h2>
<p>{e(row["lay_summary"])}</p>
<dl>
<dt>Status</dt><dd>{e(row["status"])} (version {row["version"]})</dd>
<dt>Dates</dt><dd>{e(row["start"])} to {e(row["end"])}</dd>
<dt>Purpose</dt><dd>{e(row["purpose"])}</dd>
<dt>Public benefit</dt><dd>{e(row["public_benefit"])}</dd>
<dt>Category</dt><dd>{e(row["category"])}</dd>
<dt>Lead organisation</dt><dd>{e(row["lead_organisation"])}</dd>{lead}
<dt>Data controllers</dt><dd>{e(", ".join(row["controllers"]))}</dd>
<dt>Data used</dt><dd><ul>{datasets}</ul></dd>
<dt>Legal basis</dt><dd>{e("; ".join(row["legal_basis"]))}</dd>
<dt>Statutory gateways</dt><dd>{e("; ".join(row["gateways"]))}</dd>
<dt>Onward sharing</dt><dd>{"yes" if row["onward_sharing"] else "no"}</dd>
<dt>Commercial use</dt><dd>{"yes" if row["commercial_use"] else "no"}</dd>{releases}
</dl></article>""")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Transparency register: {e(name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.5; }}
article {{ border-top: 2px solid #1f4e79; margin-top: 1.5rem; }}
dt {{ font-weight: bold; }} dd {{ margin: 0 0 .4rem 0; }} .muted {{ color: #4a4a4a; }}
label {{ font-weight: bold; }} input {{ font-size: 1rem; padding: .3rem; width: 20rem; }}
</style></head><body>
<header><h1>Transparency register: {e(name)}</h1>
<p>Every project that has asked to use linked public-sector data in this trusted research
environment: what for, under which law, with which data, and its status. Published
{at.isoformat()}. Also as <a href="register.csv">CSV</a> and <a href="register.json">JSON</a>.</p>
<p><label for="filter">Filter projects</label>
<input id="filter" type="search" placeholder="a word, a dataset, an organisation"
 aria-describedby="count"> <span id="count" aria-live="polite">{len(rows)} project(s)</span></p>
</header>
<main>{"".join(body) or "<p>No projects yet.</p>"}</main>
<script>
const input = document.getElementById('filter');
const projects = Array.from(document.querySelectorAll('article.project'));
input.addEventListener('input', () => {{
  const words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
  let shown = 0;
  for (const p of projects) {{
    const match = words.every(w => p.dataset.search.includes(w));
    p.hidden = !match; shown += match;
  }}
  document.getElementById('count').textContent = shown + ' project(s)';
}});
</script>
</body></html>
"""

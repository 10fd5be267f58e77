"""The proof report as one self-contained HTML page: every claim with its sentence, verdict, evidence and picture.

Everything is inline — styles, SVG, text — so the page opens offline and from a CI artifact. The
claims × versions matrix (genspec-matrix) uses `grid` for its coloured HTML form.
"""

from html import escape

from genspec.reports import pictures

STATUS_COLOUR = {"proven": "#2e7d32", "failed": "#c62828", "damaged recording": "#ad1457", "refuted": "#ef6c00", "cannot show": "#6a1b9a", "skipped": "#8d6e63", "not applicable": "#0277bd",
                 "not run": "#757575", "not covered": "#424242"}

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1200px; color: #212121; padding: 0 1rem; }
h1 { margin-bottom: .2rem; } .environment { color: #555; margin-bottom: 1rem; }
.counts span { display: inline-block; margin-right: .6rem; padding: .15rem .6rem; border-radius: 1rem; color: white; }
section.claim { border: 1px solid #ddd; border-left: 6px solid var(--status); border-radius: 6px; margin: .5rem 0; padding: .35rem .8rem; }
.claim h2 { font-size: 1rem; margin: 0; font-weight: 500; } .claim h2 .id { font-weight: 700; margin-right: .3rem; }
.badge { background: var(--status); color: white; border-radius: 1rem; padding: .05rem .55rem; font-size: .8rem; margin-right: .5rem; }
.where { color: #666; font-size: .85rem; } .detail { font-family: ui-monospace, monospace; font-size: .8rem; color: #444; }
.overview { display: flex; flex-wrap: wrap; gap: 3px; margin: .8rem 0 1.2rem; }
.overview a { display: inline-block; width: 2.6rem; text-align: center; color: white; text-decoration: none; border-radius: 3px; font: 12px ui-monospace, monospace; padding: .25rem 0; }
figure { margin: .8rem 0; overflow-x: auto; } figcaption { color: #555; font-size: .85rem; margin-top: .3rem; }
.flow-row { display: flex; align-items: center; flex-wrap: wrap; gap: .3rem; }
.stage { border: 2px solid #1565c0; border-radius: 8px; padding: .3rem .6rem; background: #e3f2fd; } .stage .name { font-weight: 600; }
.stage .seen { font-family: ui-monospace, monospace; font-size: .85rem; } .arrow { font-size: 1.4rem; color: #1565c0; }
.loop-back { color: #1565c0; margin-top: .2rem; font-size: .9rem; }
.tree-svg .node rect { fill: #fafafa; stroke: #9e9e9e; stroke-width: 1.5; } .tree-svg .node.greedy rect { fill: #ffebee; stroke: #c62828; stroke-width: 3; }
.tree-svg text { font: 13px ui-monospace, monospace; } .tree-svg .score { fill: #555; }
.tree-svg .edge { stroke: #9e9e9e; stroke-width: 1.5; } .tree-svg .edge.greedy { stroke: #c62828; stroke-width: 3; }
table.observed, table.strip, table.grid { border-collapse: collapse; font: 13px ui-monospace, monospace; }
table.observed td, table.observed th, table.strip td, table.strip th, table.grid td, table.grid th { border: 1px solid #ddd; padding: .2rem .45rem; text-align: left; }
table.strip td.agree { background: #e8f5e9; } table.strip td.differ { background: #ffebee; } table.strip td.tie { background: #fff8e1; outline: 2px solid #ef6c00; }
.tie-note { color: #ef6c00; font-size: .9rem; }
table.grid td.status { color: white; text-align: center; }
"""


def render(environment: dict, rows: list[dict], tests: dict) -> str:
    """The page for one run: `rows` as ProofReport.claim_rows gives them, `tests` as the JSON report holds them."""
    counts = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    badges = "".join(f"<span style='background:{STATUS_COLOUR.get(status, '#757575')}'>{count} {escape(status)}</span>"
                     for status, count in counts.items())
    setting = ", ".join(f"{key} {value}" for key, value in environment.items() if value is not None and key != "fell_back")
    overview = "".join(f"<a href='#{escape(row['id'])}' title='{escape(row['status'])}' style='background:{STATUS_COLOUR.get(row['status'], '#757575')}'>"
                       f"{escape(row['id'])}</a>" for row in rows)
    claims = "".join(_claim(row, tests) for row in rows)
    return _page("genspec proof report",
                 f"<h1>genspec proof report</h1><div class='environment'>{escape(setting)}</div><div class='counts'>{badges}</div>"
                 f"<nav class='overview'>{overview}</nav>{claims}")


def grid(title: str, versions: list[str], rows: list[tuple[str, str, list[str]]], links: list[list[str | None]] | None = None) -> str:
    """The claims × versions matrix as a coloured grid: rows of (claim id, kind, status per version); a cell with a link (a red
    cell's reproduction) links to it."""
    links = links or [[None] * len(versions) for _ in rows]
    head = "<tr><th>claim</th><th>kind</th>" + "".join(f"<th>{escape(version)}</th>" for version in versions) + "</tr>"
    body = "".join(f"<tr><th>{escape(claim)}</th><td>{escape(kind)}</td>"
                   + "".join(f"<td class='status' style='background:{STATUS_COLOUR.get(status, '#757575')}'>"
                             + (f"<a href='{escape(link)}'>{escape(status)}</a>" if link else escape(status)) + "</td>"
                             for status, link in zip(statuses, row_links, strict=True)) + "</tr>"
                   for (claim, kind, statuses), row_links in zip(rows, links, strict=True))
    return _page(title, f"<h1>{escape(title)}</h1><table class='grid'>{head}{body}</table>")


def _claim(row: dict, tests: dict) -> str:
    colour = STATUS_COLOUR.get(row["status"], "#757575")
    figures = "".join(pictures.to_html(picture) for picture in pictures.of_claim(row, tests))
    detail = f" — <span class='detail'>{escape(row['detail'])}</span>" if row["detail"] else ""
    return (f"<section class='claim' id='{escape(row['id'])}' style='--status:{colour}'>"
            f"<h2><span class='id'>{escape(row['id'])}</span><span class='badge'>{escape(row['status'])}</span>{escape(row['claim'])}</h2>"
            f"<div class='where'>{escape(row['where'])} · {escape(row['kind'])}{detail}</div>{figures}</section>")


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>{body}</body></html>\n")

"""The articles' pictures, redrawn from what a run observed: as plain data a test attaches, as HTML, as Markdown.

A test attaches a picture with the `picture` fixture; the proof report carries it in its JSON and
draws it in the HTML page (inline SVG and tables: nothing to fetch) and in the Markdown report
(Mermaid blocks and tables, which GitHub renders). Four kinds:

- `flow`: stages left to right, each with what the run saw there (001's flowchart of raw input →
  embedding → transformer → output, the shape journey, and the generation loop with its back edge);
- `tree`: 001's decision tree, the top-k branches at each step with their scores, the greedy path in red;
- `table`: rows as the articles print them (001's previous text → token with highest score);
- `strip`: two computations' tokens side by side, agreeing steps marked, a near-tie with both margins.
"""

from html import escape

GREEDY = "#c62828"  # 001 draws the greedy path in red


def flow(title: str, stages: list[tuple[str, str]], loop_back: str | None = None) -> dict:
    """Stages (name, what was seen there) in order; `loop_back` labels an edge from the last stage to the first."""
    return {"kind": "flow", "title": title, "stages": [{"name": name, "seen": seen} for name, seen in stages], "loop_back": loop_back}


def tree(title: str, prompt: str, steps: list[list[tuple[str, float]]]) -> dict:
    """Per step, the branches (token text, score) best first; the greedy path follows the first branch of each step."""
    return {"kind": "tree", "title": title, "prompt": prompt,
            "steps": [[{"text": text, "score": round(float(score), 4)} for text, score in branches] for branches in steps]}


def table(title: str, columns: list[str], rows: list[list[str]]) -> dict:
    return {"kind": "table", "title": title, "columns": columns, "rows": rows}


def strip(title: str, names: tuple[str, str], left: list[str], right: list[str], near_tie=None) -> dict:
    """Two token sequences (their texts) step by step; `near_tie` (agreement.NearTie) where rounding parted them."""
    tie = None if near_tie is None else {"step": near_tie.step, "margins": [round(m, 4) for m in near_tie.margins], "bound": near_tie.bound}
    return {"kind": "strip", "title": title, "names": list(names), "left": left, "right": right, "near_tie": tie}


def of_claim(row: dict, tests: dict) -> list[dict]:
    """The pictures the tests of a claim row attached, in test order (`tests` as the JSON report holds them)."""
    return [picture for nodeid in row["tests"] for picture in tests.get(nodeid, {}).get("pictures", [])]


# --- HTML ---------------------------------------------------------------------------------------------

def to_html(picture: dict) -> str:
    body = {"flow": _flow_html, "tree": _tree_html, "table": _table_html, "strip": _strip_html}[picture["kind"]](picture)
    return f'<figure class="picture {picture["kind"]}">{body}<figcaption>{escape(picture["title"])}</figcaption></figure>'


def _flow_html(picture: dict) -> str:
    stages = "<span class='arrow'>→</span>".join(
        f"<div class='stage'><div class='name'>{escape(stage['name'])}</div><div class='seen'>{escape(stage['seen'])}</div></div>"
        for stage in picture["stages"])
    back = f"<div class='loop-back'>↺ {escape(picture['loop_back'])}</div>" if picture.get("loop_back") else ""
    return f"<div class='flow-row'>{stages}</div>{back}"


def _tree_html(picture: dict) -> str:
    """001's tree: a column per step, its branches best first; edges from the previous step's greedy node."""
    column, row, width, height = 190, 46, 150, 34
    steps = picture["steps"]
    k = max((len(branches) for branches in steps), default=1)
    total_width, total_height = column * (len(steps) + 1), row * k + 20
    parts = [_svg_node(10, 10, width, height, _short(picture["prompt"], 17), "", greedy=True)]
    parent = (10 + width, 10 + height / 2)
    for step, branches in enumerate(steps, start=1):
        x = 10 + column * step
        for rank, branch in enumerate(branches):
            y = 10 + row * rank
            greedy = rank == 0
            parts.insert(0, f"<line x1='{parent[0]}' y1='{parent[1]}' x2='{x}' y2='{y + height / 2}' "
                            f"class='edge{' greedy' if greedy else ''}'/>")
            parts.append(_svg_node(x, y, width, height, _short(branch["text"], 14), f"{branch['score']:.2f}", greedy))
        parent = (x + width, 10 + height / 2)
    return (f"<svg class='tree-svg' width='{total_width}' height='{total_height}' viewBox='0 0 {total_width} {total_height}' "
            f"role='img' aria-label='{escape(picture['title'])}'>{''.join(parts)}</svg>")


def _svg_node(x, y, width, height, label, score, greedy) -> str:
    return (f"<g class='node{' greedy' if greedy else ''}'><rect x='{x}' y='{y}' width='{width}' height='{height}' rx='6'/>"
            f"<text x='{x + 8}' y='{y + 22}' class='token'>{escape(label)}</text>"
            f"<text x='{x + width - 8}' y='{y + 22}' class='score' text-anchor='end'>{escape(score)}</text></g>")


def _table_html(picture: dict) -> str:
    head = "".join(f"<th>{escape(column)}</th>" for column in picture["columns"])
    rows = "".join("<tr>" + "".join(f"<td>{escape(_visible(cell))}</td>" for cell in row) + "</tr>" for row in picture["rows"])
    return f"<table class='observed'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _strip_html(picture: dict) -> str:
    tie = picture.get("near_tie")
    header = "<tr><th>step</th>" + "".join(f"<th>{step}</th>" for step in range(max(len(picture["left"]), len(picture["right"])))) + "</tr>"
    rows = ""
    for name, tokens, other in ((picture["names"][0], picture["left"], picture["right"]), (picture["names"][1], picture["right"], picture["left"])):
        cells = ""
        for step, text in enumerate(tokens):
            state = "tie" if tie and step == tie["step"] else "agree" if step < len(other) and other[step] == text else "differ"
            cells += f"<td class='{state}'>{escape(_visible(text))}</td>"
        rows += f"<tr><th>{escape(name)}</th>{cells}</tr>"
    note = (f"<p class='tie-note'>step {tie['step']}: a near-tie, margins {tie['margins'][0]:g} and {tie['margins'][1]:g} "
            f"within the bound {tie['bound']:g}; compared up to there</p>") if tie else ""
    return f"<table class='strip'>{header}{rows}</table>{note}"


# --- Markdown -----------------------------------------------------------------------------------------

def to_markdown(picture: dict) -> str:
    body = {"flow": _flow_markdown, "tree": _tree_markdown, "table": _table_markdown, "strip": _strip_markdown}[picture["kind"]](picture)
    return f"**{picture['title']}**\n\n{body}\n"


def _flow_markdown(picture: dict) -> str:
    lines = ["```mermaid", "flowchart LR"]
    for index, stage in enumerate(picture["stages"]):
        lines.append(f'  s{index}["{_mermaid(stage["name"])}<br/>{_mermaid(stage["seen"])}"]')
    lines += [f"  s{index} --> s{index + 1}" for index in range(len(picture["stages"]) - 1)]
    if picture.get("loop_back"):
        lines.append(f'  s{len(picture["stages"]) - 1} -. "{_mermaid(picture["loop_back"])}" .-> s0')
    return "\n".join([*lines, "```"])


def _tree_markdown(picture: dict) -> str:
    lines = ["```mermaid", "flowchart LR", f'  root["{_mermaid(_short(picture["prompt"], 30))}"]']
    greedy_links, link, parent = [], 0, "root"
    for step, branches in enumerate(picture["steps"]):
        for rank, branch in enumerate(branches):
            node = f"s{step}b{rank}"
            lines.append(f'  {parent} --> {node}["{_mermaid(branch["text"])} {branch["score"]:.2f}"]')
            if rank == 0:
                greedy_links.append(str(link))
                lines.append(f"  style {node} stroke:{GREEDY},stroke-width:3px")
            link += 1
        parent = f"s{step}b0"
    if greedy_links:
        lines.append(f"  linkStyle {','.join(greedy_links)} stroke:{GREEDY},stroke-width:3px")
    return "\n".join([*lines, "```"])


def _table_markdown(picture: dict) -> str:
    lines = ["| " + " | ".join(picture["columns"]) + " |", "|" + "---|" * len(picture["columns"])]
    lines += ["| " + " | ".join(_cell(_visible(cell)) for cell in row) + " |" for row in picture["rows"]]
    return "\n".join(lines)


def _strip_markdown(picture: dict) -> str:
    tie = picture.get("near_tie")
    steps = max(len(picture["left"]), len(picture["right"]))
    lines = ["| step | " + " | ".join(picture["names"]) + " | |", "|---|---|---|---|"]
    for step in range(steps):
        left = picture["left"][step] if step < len(picture["left"]) else ""
        right = picture["right"][step] if step < len(picture["right"]) else ""
        mark = (f"near-tie: margins {tie['margins'][0]:g}, {tie['margins'][1]:g}" if tie and step == tie["step"]
                else "equal" if left == right else "differ")
        lines.append(f"| {step} | {_cell(_visible(left))} | {_cell(_visible(right))} | {mark} |")
    return "\n".join(lines)


def _mermaid(text: str) -> str:
    """Text inside a quoted Mermaid label: its entity codes for the characters Mermaid would read as syntax."""
    for raw, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"), ("\n", " ")):
        text = text.replace(raw, code)
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _visible(text: str) -> str:
    """A token's text with its whitespace shown: 001's table prints a leading space as ' ' and a newline as \\n."""
    return text.replace("\n", "\\n") if text.strip() else repr(text)


def _short(text: str, limit: int) -> str:
    text = _visible(text)
    return text if len(text) <= limit else "…" + text[-(limit - 1):]

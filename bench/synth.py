"""Synthetic knowledge bases: N dated notes and 30 concept pages, written as three comparable sites.

* ``hooks``: this project's layout (``docs/notes``, ``docs/concepts``) with ``[[wikilinks]]`` and the
  project's site hook (``hooks/mkdocs_site.py``, referenced by absolute path);
* ``plain``: the same pages as plain MkDocs pages, every wikilink pre-rendered as the Markdown link the
  hook would write, an explicit nav that lists neither notes nor concepts;
* ``blog``: the same notes as posts of Material's blog plugin (``docs/blog/posts``, ``date`` front
  matter), links pre-rendered as in ``plain``.

All three use the project's theme settings and Markdown extensions and the plugins ``search`` and
``tags``; the text of every page is the same, so site sizes compare the layers, not the content.
Generation is deterministic (seeded).
"""
from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path

import yaml

from bench.common import PROJECT_ROOT

VARIANTS = ("hooks", "plain", "blog")
N_CONCEPTS = 30
FIRST_DATE = dt.date(2016, 1, 1)

_WORDS = (
    "gradient loss optimiser batch layer width depth attention residual token embedding kernel feature "
    "sample noise variance bias generalisation overfitting regularisation weight decay learning rate "
    "schedule warmup momentum curvature Hessian spectrum eigenvalue norm scale parameter count data set "
    "validation test split accuracy error curve peak interpolation threshold ridge lambda random features "
    "transformer recurrence convolution pooling normalisation dropout initialisation signal propagation "
    "activation ReLU softmax logits entropy calibration confidence probe linear head pretraining finetuning "
    "scaling law compute budget throughput memory bandwidth accelerator cluster sharding pipeline tensor "
    "program circuit neuron periodic Fourier modular addition grokking memorisation simulator policy reward "
    "transfer mismatch friction mass trajectory rollout horizon context window sequence prediction sampling "
    "temperature perplexity bigram unigram baseline ablation seed run figure measure observe compare notice"
).split()

_CONCEPT_NAMES = [
    "Deep double descent", "Trainability", "Inductive bias", "Simplicity bias", "Overparameterization",
    "Gradient descent and backpropagation", "Next-token prediction", "Learned programs", "Embodiment",
    "Simulation (sim-to-real)", "Reliability and controllability", "Deep learning stack", "Grokking",
    "Scaling laws", "Attention", "Recurrent networks", "Residual connections", "Weight decay",
    "Learning-rate schedules", "Calibration", "Domain randomisation", "Random features", "Ridge regression",
    "Implicit regularisation", "Neural tangent kernel", "Mechanistic interpretability", "Tokenisation",
    "Batch normalisation", "Mixture of experts", "Data parallelism",
]
assert len(_CONCEPT_NAMES) == N_CONCEPTS

_TAGS = [
    "podcast", "paper", "theory", "experiment", "optimisation", "generalisation", "transformers", "systems",
    "robotics", "interpretability", "scaling", "reading-group", "lecture", "replication", "ideas",
]


def _slugify(text: str) -> str:
    out = "".join(ch.lower() if ch.isalnum() else "-" for ch in text)
    return "-".join(filter(None, out.split("-")))


class _Concept:
    def __init__(self, index: int, name: str):
        self.index = index
        self.title = name
        self.slug = _slugify(name)
        self.aliases = [f"{name.lower()} (concept)", f"c{index:02d} {_slugify(name).split('-')[0]}"]
        self.uri = f"concepts/{self.slug}.md"


class _Note:
    def __init__(self, index: int):
        self.index = index
        self.date = FIRST_DATE + dt.timedelta(days=index)
        self.slug = f"study-session-{index:04d}"
        self.stem = f"{self.date.isoformat()}-{self.slug}"
        self.title = f"Study session {index}: {self.date:%b %d, %Y}"


class _Link:
    """One link as written in each variant: a wikilink, or the Markdown link the hook would produce."""

    def __init__(self, wikilink: str, text: str, target_uri: str, anchor: str = ""):
        self.wikilink = wikilink
        self.text = text
        self.target_uri = target_uri  # in the hooks/plain layout
        self.anchor = anchor

    def markdown(self, from_uri: str, variant: str) -> str:
        if variant == "hooks":
            return self.wikilink
        target = _place(self.target_uri, variant)
        rel = _relpath(_place(from_uri, variant), target)
        return f"[{self.text}]({rel}{'#' + self.anchor if self.anchor else ''})"


def _place(uri: str, variant: str) -> str:
    """Where a page lives in a variant (blog posts move to blog/posts/)."""
    if variant == "blog" and uri.startswith("notes/"):
        return "blog/posts/" + uri.removeprefix("notes/")
    return uri


def _relpath(from_uri: str, to_uri: str) -> str:
    import posixpath

    return posixpath.relpath(to_uri, posixpath.dirname(from_uri) or ".")


def _sentence(rng: random.Random, words: int) -> str:
    picked = [rng.choice(_WORDS) for _ in range(words)]
    return picked[0].capitalize() + " " + " ".join(picked[1:]) + "."


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(_sentence(rng, rng.randint(8, 18)) for _ in range(sentences))


def _front_matter(meta: dict) -> str:
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000) + "---\n\n"


def _note_text(note: _Note, notes: list[_Note], concepts: list[_Concept], variant: str) -> str:
    rng = random.Random(1000 + note.index)
    uri = f"notes/{note.stem}.md"
    links: list[_Link] = []
    for c in rng.sample(concepts, 4):
        how = rng.randrange(3)
        if how == 0:
            links.append(_Link(f"[[{c.title}]]", c.title, c.uri))
        elif how == 1:
            label = f"{c.title.lower()} ideas"
            links.append(_Link(f"[[{c.title}|{label}]]", label, c.uri))
        else:
            links.append(_Link(f"[[{c.aliases[0]}]]", c.aliases[0], c.uri))
    if note.index > 0:
        for other in {notes[rng.randrange(note.index)] for _ in range(2)}:
            label = f"session {other.index}"
            links.append(_Link(f"[[{other.stem}|{label}]]", label, f"notes/{other.stem}.md"))
        other = notes[rng.randrange(note.index)]
        label = f"takeaways of session {other.index}"
        links.append(_Link(f"[[{other.slug}#Takeaways|{label}]]", label, f"notes/{other.stem}.md", "takeaways"))
    rng.shuffle(links)
    meta = {
        "title": note.title,
        "date": note.date,
        "tags": sorted(rng.sample(_TAGS, rng.randint(1, 3))),
        "description": _sentence(rng, 12),
    }
    paragraphs = [_paragraph(rng, rng.randint(2, 4)) for _ in range(5)]
    # One link per paragraph sentence end, the rest in the takeaways list.
    body = [f"# {note.title}", "", paragraphs[0], "", "<!-- more -->", ""]
    link_md = [link.markdown(uri, variant) for link in links]
    body += [f"{paragraphs[1]} See {link_md[0]} and {link_md[1]}.", ""]
    body += ["## Takeaways", ""]
    for i, md in enumerate(link_md[2:]):
        body.append(f"- {_sentence(rng, rng.randint(6, 12))} Related: {md}.")
    body += ["", paragraphs[2], "", "## Open questions", "", paragraphs[3], ""]
    if note.index % 7 == 0:
        body += ["```python", "loss = criterion(model(x), y)", "loss.backward()", "opt.step()", "```", ""]
    body += [paragraphs[4], ""]
    return _front_matter(meta) + "\n".join(body)


def _concept_text(c: _Concept, concepts: list[_Concept], variant: str) -> str:
    rng = random.Random(50 + c.index)
    meta = {"title": c.title, "aliases": c.aliases, "tags": ["concept", rng.choice(_TAGS)]}
    others = [o for o in concepts if o is not c]
    links = [_Link(f"[[{o.title}]]", o.title, o.uri).markdown(c.uri, variant) for o in rng.sample(others, 2)]
    body = [
        f"# {c.title}", "", _paragraph(rng, 4), "", f"{_paragraph(rng, 2)} It builds on {links[0]} and {links[1]}.",
        "", "## Demo", "", "No demo illustrates this concept yet.", "", "## References", "", _paragraph(rng, 1), "",
    ]
    return _front_matter(meta) + "\n".join(body)


HOME = """---
title: Home
---

# Deep-learning study notes

Dated study notes on deep learning, one page per study session, generated for a benchmark.

## Newest notes

<!-- kb:newest -->

## Concept map

<!-- kb:concept-map -->
"""

TAGS_PAGE = """---
title: Tags
---

# Tags

<!-- material/tags -->
"""

BLOG_INDEX = "# Notes\n"


def _project_config() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def site_config(variant: str, *, demo_hook: bool = False) -> dict:
    """mkdocs.yml of one variant: the project's theme, extensions and validation; plugins search and tags."""
    base = _project_config()
    cfg = {
        "site_name": f"Benchmark ({variant})",
        "site_url": base.get("site_url"),
        "docs_dir": "docs",
        "theme": base["theme"],
        "markdown_extensions": base["markdown_extensions"],
        "validation": base.get("validation", {}),
        "plugins": ["search", "tags"],
        "extra": {"notes": (base.get("extra") or {}).get("notes", {})},
    }
    if variant == "hooks":
        cfg["plugins"] = ["search"]  # the site hook writes the tags page itself
        cfg["hooks"] = [str(PROJECT_ROOT / "hooks" / "mkdocs_site.py")]
        if demo_hook:
            cfg["hooks"].append(str(PROJECT_ROOT / "hooks" / "mkdocs_demos.py"))
        cfg["nav"] = [
            {"Home": "index.md"}, {"Notes": "notes/index.md"}, {"Concepts": "concepts/index.md"},
            {"Concept map": "concept-map.md"}, {"Tags": "tags.md"},
        ]
        if demo_hook:
            cfg["nav"].append({"Demo runs": "demo-runs.md"})
    elif variant == "plain":
        cfg["nav"] = [{"Home": "index.md"}, {"Tags": "tags.md"}]
        cfg["not_in_nav"] = "/notes/\n/concepts/\n"
    elif variant == "blog":
        cfg["plugins"] = ["search", "tags", {"blog": {"blog_dir": "blog"}}]
        cfg["nav"] = [{"Home": "index.md"}, {"Notes": "blog/index.md"}, {"Tags": "tags.md"}]
        cfg["not_in_nav"] = "/concepts/\n"
    else:
        raise ValueError(variant)
    return cfg


def write_config(root: Path, cfg: dict) -> Path:
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def write_site(root: Path, n_notes: int, variant: str, *, demo_hook: bool = False) -> Path:
    """Write one synthetic site under ``root`` (replaced if present); return its mkdocs.yml."""
    if root.exists():
        shutil.rmtree(root)
    docs = root / "docs"
    concepts = [_Concept(i, name) for i, name in enumerate(_CONCEPT_NAMES)]
    notes = [_Note(i) for i in range(n_notes)]
    (docs / "concepts").mkdir(parents=True)
    notes_dir = docs / ("blog/posts" if variant == "blog" else "notes")
    notes_dir.mkdir(parents=True)
    (docs / "index.md").write_text(HOME, encoding="utf-8")
    (docs / "tags.md").write_text(TAGS_PAGE.replace("<!-- material/tags -->", "<!-- kb:tags -->") if variant == "hooks" else TAGS_PAGE, encoding="utf-8")
    if variant == "blog":
        (docs / "blog" / "index.md").write_text(BLOG_INDEX, encoding="utf-8")
    for c in concepts:
        (docs / c.uri).write_text(_concept_text(c, concepts, variant), encoding="utf-8")
    for note in notes:
        (notes_dir / f"{note.stem}.md").write_text(_note_text(note, notes, concepts, variant), encoding="utf-8")
    return write_config(root, site_config(variant, demo_hook=demo_hook))


def note_path(root: Path, index: int) -> Path:
    return root / "docs" / "notes" / f"{_Note(index).stem}.md"


def note_url(index: int) -> str:
    """The URL path of a note in the ``hooks`` layout (MkDocs' directory URLs)."""
    return f"notes/{_Note(index).stem}/"

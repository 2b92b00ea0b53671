# Two entry points for a fresh machine: `make site` and `make test`.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
ASSETS  := node_modules/.installed
ZENSICAL := build/zensical
export NO_MKDOCS_2_WARNING := 1

.PHONY: site site-zensical serve test bench science demos check clean

$(PY):
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml $(ASSETS) | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

# Math, diagram and accessibility-test assets from the npm registry, pinned by package-lock.json;
# the site serves them itself (it must work offline).
$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm (Node.js) is needed to install the site's math and diagram assets; install Node.js 18 or newer"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

site: $(STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

# The same site built by Zensical, which runs no hooks: `notes export` writes the finished Markdown
# and files into $(ZENSICAL), Zensical builds $(ZENSICAL)/site from it (see README, Other generators).
site-zensical: $(STAMP)
	$(PIP) install -q -e '.[zensical]'
	.venv/bin/notes export $(ZENSICAL) --for zensical
	cd $(ZENSICAL) && $(CURDIR)/.venv/bin/zensical build --clean

serve: $(STAMP)
	$(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

demos: $(STAMP)
	.venv/bin/notes demos

check: $(STAMP)
	.venv/bin/notes check

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PIP) install -q -e '.[test,bench]'
	$(PY) -m bench

# Every demo at seeds 0-3 (through the runner and its cache); writes bench/SCIENCE.md.
science: $(STAMP)
	$(PY) -m bench.science

clean:
	rm -rf site .cache .demos-cache .kb-cache $(ZENSICAL)

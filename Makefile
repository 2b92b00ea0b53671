# Two entry points for a fresh machine: `make site` and `make test`.
PY      := .venv/bin/python
PIP     := .venv/bin/pip
STAMP   := .venv/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test bench demos check clean

$(PY):
	python3 -m venv .venv
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -q -e '.[test]'
	touch $(STAMP)

site: $(STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

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

clean:
	rm -rf site .cache

# Cross-site synthesis kit. `make` alone lists the targets.
# Every target creates .venv first, from requirements.lock, when it is missing or older
# than the lock or pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KIT    := $(BIN)/python -m analysis
LOCK   := requirements.lock
# `make lock` only: uv (from PyPI) resolves the lock, in its own environment so that
# .venv holds exactly the locked packages.
UV_VERSION := 0.13.9
LOCKENV    := .venv-lock
INDEX      ?= https://pypi.org/simple

.DEFAULT_GOAL := help
.PHONY: help venv lock validate tables notebooks report test bench clean refresh-notebooks new-site \
	exchange agreement

help:  ## list the targets
	@echo "Cross-site synthesis kit"
	@echo
	@echo "  make report     raw data -> reports/comparison.pdf (the main job)"
	@echo "  make test       unit tests and nbval over notebooks/"
	@echo "  make validate   check every input file, one verdict per file"
	@echo "  make tables     tidy tables + data dictionary in reports/tables/ (no Jupyter)"
	@echo "  make notebooks  execute every site notebook and the cross-site notebook"
	@echo "                  into reports/notebooks/ (papermill, sites in parallel)"
	@echo "  make refresh-notebooks  re-execute the committed notebooks in notebooks/"
	@echo "                  after a deliberate data change (nbval compares against them)"
	@echo "  make exchange   REFI-QDA project + codebook for NVivo, ATLAS.ti, MAXQDA,"
	@echo "                  QualCoder -> reports/exchange/kit.qdpx, kit.qdc"
	@echo "  make agreement  sentence-level agreement of the second coding(s) in"
	@echo "                  data/second_coding/ with the kit's coding"
	@echo "  make new-site SITE=slug TEXT=file.txt NAME=... LEVEL=... UNIT=..."
	@echo "                  add a site: text, metadata rows, suggested coding"
	@echo "  make bench      speed figures -> reports/benchmarks.md"
	@echo "  make clean      remove every generated output under reports/ (keeps .venv, data)"
	@echo "  make lock       re-resolve requirements.lock after a change to the dependencies"
	@echo "                  in pyproject.toml (keeps other pins; UPGRADE=1 updates them all)"
	@echo
	@echo "The first target you run creates .venv from requirements.lock."

# A new .venv every time the lock or pyproject.toml changes: pip installs exactly the
# locked files (every one checked against its sha256, nothing resolved), then the kit
# itself, built with the locked setuptools. So .venv never keeps a package the lock
# dropped, and `pip freeze` equals the lock.
$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "the kit needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	@echo "creating $(VENV) from $(LOCK) (first run only; about a minute)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

venv: $(STAMP)  ## create the virtual environment

$(LOCKENV)/uv-$(UV_VERSION):
	rm -rf $(LOCKENV)
	$(PYTHON) -m venv $(LOCKENV)
	$(LOCKENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@touch $@

# Every package for every platform and Python >= 3.11 (--universal), with the sha256 of
# each of its files on PyPI. Pins already in the lock are kept unless UPGRADE=1.
lock: $(LOCKENV)/uv-$(UV_VERSION)
	$(LOCKENV)/bin/uv pip compile pyproject.toml --extra dev --group pyproject.toml:install \
		--universal --python-version 3.11 --generate-hashes --no-config \
		--quiet --default-index $(INDEX) --custom-compile-command 'make lock' \
		$(if $(UPGRADE),--upgrade) --output-file $(LOCK)

validate: $(STAMP)
	$(KIT) validate

tables: $(STAMP)
	$(KIT) tables

notebooks: $(STAMP)
	$(KIT) notebooks

report: $(STAMP)
	$(KIT) report

refresh-notebooks: $(STAMP)
	$(BIN)/python -m analysis.notebooks refresh

exchange: $(STAMP)
	$(KIT) qdpx export
	$(KIT) qdpx export-codebook

agreement: $(STAMP)
	@for sheet in data/second_coding/*.csv; do \
		site=$$(basename $$sheet .csv); echo "== $$site: data/coding/$$site.csv (A) vs $$sheet (B)"; \
		$(KIT) agreement --sheets data/coding/$$site.csv $$sheet --by category || exit 1; \
	done

new-site: $(STAMP)
	@test -n "$(SITE)" -a -n "$(TEXT)" || { echo "usage: make new-site SITE=slug TEXT=path/to/text.txt NAME='Office' LEVEL=kabupaten|kota|distrik UNIT='Unit studied'"; exit 2; }
	$(KIT) new-site "$(SITE)" "$(TEXT)" $(if $(NAME),--name "$(NAME)") $(if $(LEVEL),--admin-level "$(LEVEL)") $(if $(UNIT),--unit "$(UNIT)")

test: $(STAMP)
	$(BIN)/python -m pytest tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python -m analysis.bench

# Everything under reports/ is generated, except the placeholder that keeps the folder.
clean:
	find reports -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

# Cross-site synthesis kit. `make` alone lists the targets.
# Every target creates .venv first, from requirements.lock, when it is missing or older
# than the lock or pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The stamp's name changes when the way .venv is built does, so an older .venv is rebuilt.
# It holds the folder .venv was made in: .venv belongs to that checkout (its editable
# install points at that checkout's src/, its scripts at that .venv's python), so a copied
# checkout (cp -r) would run the original's code on the original's data and reports.
# There, .venv is made again for the copy.
STAMP  := $(VENV)/.installed-v3
ifneq ($(wildcard $(STAMP)),)
ifneq ($(shell cat $(STAMP)),$(CURDIR))
.PHONY: $(STAMP)
$(info $(VENV) was made for $(shell cat $(STAMP)), not for this folder: the first target that needs it makes it again here)
endif
endif
KIT    := $(BIN)/python -m analysis
LOCK   := requirements.lock
# uv (from PyPI, pinned) lives in its own environment, outside .venv: it installs the
# lock in seconds and makes it (`make lock`). INSTALLER=pip installs with pip alone, as
# make also does whenever uv cannot be had.
INSTALLER  ?= uv
UV_VERSION := 0.13.9
TOOLS      := .venv-tools
UV         := $(TOOLS)/bin/uv
UVSTAMP    := $(TOOLS)/uv-$(UV_VERSION)
UV_BOOTSTRAP = test -f $(UVSTAMP) || { rm -rf $(TOOLS) && $(PYTHON) -m venv $(TOOLS) \
	&& $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) \
	&& touch $(UVSTAMP); }
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
	@echo "                  into reports/notebooks/ (papermill; one kernel per core, reused;"
	@echo "                  SITE=\"manoi mesuji\" for some sites only)"
	@echo "  make refresh-notebooks  re-execute the committed notebooks in notebooks/"
	@echo "                  after a deliberate data change (nbval compares against them)"
	@echo "  make exchange   REFI-QDA project + codebook for NVivo, ATLAS.ti, MAXQDA,"
	@echo "                  QualCoder -> reports/exchange/kit.qdpx, kit.qdc"
	@echo "  make agreement  sentence-level agreement of the second coding(s) in"
	@echo "                  data/second_coding/ with the kit's coding"
	@echo "  make new-site SITE=slug TEXT=study.pdf NAME=... LEVEL=... UNIT=..."
	@echo "                  add a site from a PDF, .docx or text: raw text, metadata rows,"
	@echo "                  suggested coding; then: .venv/bin/python -m analysis site-status SLUG"
	@echo "  make changes SINCE=REV  what a recoding changed since git revision REV"
	@echo "                  -> reports/changes/changes.md, changes.csv"
	@echo "  make bench      speed figures against the kernel floor -> reports/benchmarks.md"
	@echo "                  (about 90 s; make bench FULL=1 adds the 5000-site corpus)"
	@echo "  make clean      remove every generated output under reports/ (keeps .venv, data)"
	@echo "  make lock       re-resolve requirements.lock after a change to the dependencies"
	@echo "                  in pyproject.toml (keeps other pins; UPGRADE=1 updates them all)"
	@echo
	@echo "The first target you run creates .venv from requirements.lock"
	@echo "(with uv, fetched from PyPI into .venv-tools; INSTALLER=pip uses pip alone)."

# A new .venv every time the lock or pyproject.toml changes, holding exactly the locked
# files, every one checked against its sha256 and nothing resolved: uv installs them
# (pip when INSTALLER=pip or uv fails), then pip installs the kit itself, built with the
# locked setuptools. So .venv never keeps a package the lock dropped, and
# `pip freeze --all` equals the lock. Every installed module is compiled to bytecode at
# install time (pip does it by default, uv with --compile-bytecode): otherwise, wherever
# PYTHONDONTWRITEBYTECODE is set (as on many CI machines), every interpreter, kernel and
# test worker compiles pandas, seaborn, statsmodels... from source again, which made a
# trivial notebook 3x and `make test` 2x slower on the 2-core reference machine.
$(STAMP): $(LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "the kit needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	@echo "creating $(VENV) from $(LOCK) (first run only)"
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	@if [ "$(INSTALLER)" = uv ] && { $(UV_BOOTSTRAP); } \
		&& $(UV) pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes $(LOCK); then \
		echo "installed $(LOCK) with uv $(UV_VERSION)"; \
	else \
		echo "installing $(LOCK) with pip"; \
		$(BIN)/python -m pip install --quiet --disable-pip-version-check \
			--require-hashes --no-deps -r $(LOCK) || exit 1; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@printf '%s\n' '$(subst ','\'',$(CURDIR))' > $(STAMP)

venv: $(STAMP)  ## create the virtual environment

# Every package for every platform and Python >= 3.11 (--universal), with the sha256 of
# each of its files on PyPI. Pins already in the lock are kept unless UPGRADE=1.
lock:
	$(UV_BOOTSTRAP)
	$(UV) pip compile pyproject.toml --extra dev --group pyproject.toml:install \
		--universal --python-version 3.11 --generate-hashes --no-config \
		--quiet --default-index $(INDEX) --custom-compile-command 'make lock' \
		$(if $(UPGRADE),--upgrade) --output-file $(LOCK)

validate: $(STAMP)
	$(KIT) validate

tables: $(STAMP)
	$(KIT) tables

notebooks: $(STAMP)  ## SITE="a b" runs those sites' notebooks only
	$(KIT) notebooks $(foreach site,$(SITE),--site $(site))

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
	@test -n "$(SITE)" -a -n "$(TEXT)" || { echo "usage: make new-site SITE=slug TEXT=path/to/study.pdf|.docx|.txt NAME='Office' LEVEL=kecamatan|kelurahan|desa|distrik|kabupaten|kota|provinsi|dinas|badan|sekretariat_daerah UNIT='Unit studied'"; exit 2; }
	$(KIT) new-site "$(SITE)" "$(TEXT)" $(if $(NAME),--name "$(NAME)") $(if $(LEVEL),--admin-level "$(LEVEL)") $(if $(UNIT),--unit "$(UNIT)")

# Tests run on every core (pytest-xdist); --dist loadfile keeps each file, and so each
# notebook's nbval cells, in order on one worker. Files go out in collection order
# (--no-loadscope-reorder), where tests/conftest.py puts the slow end-to-end file first.
# Bytecode caches are allowed here even where PYTHONDONTWRITEBYTECODE is set: each worker
# would otherwise compile the kit and re-rewrite every test module's asserts on every run
# (about 3 s a worker on 2 cores). They go to __pycache__/, which git ignores.
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n auto --dist loadfile --no-loadscope-reorder tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

bench: $(STAMP)  ## quick (about 90 s); FULL=1 adds 5000 sites and the papermill comparison
	$(BIN)/python -m analysis.bench $(if $(FULL),--full)

# Everything under reports/ is generated, except the placeholder that keeps the folder.
clean:
	find reports -mindepth 1 -maxdepth 1 ! -name .gitkeep -exec rm -rf {} +

.PHONY: changes
changes: $(STAMP)  ## what a recoding changed since git revision SINCE -> reports/changes/
	@test -n "$(SINCE)" || { echo "usage: make changes SINCE=REV   (a commit, branch or tag, e.g. HEAD)"; exit 2; }
	$(KIT) changes --since "$(SINCE)"

# Cross-site synthesis kit. `make` alone lists the targets.
# Every target creates .venv first when it is missing or older than pyproject.toml.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KIT    := $(BIN)/python -m analysis

.DEFAULT_GOAL := help
.PHONY: help venv validate tables notebooks report test bench clean refresh-notebooks new-site \
	exchange agreement

help:  ## list the targets
	@echo "Cross-site synthesis kit"
	@echo
	@echo "  make report     raw data -> reports/comparison.pdf (the main job)"
	@echo "  make test       unit tests and nbval over notebooks/"
	@echo "  make validate   check every input file, one verdict per file"
	@echo "  make tables     tidy tables + data dictionary in reports/tables/ (no Jupyter)"
	@echo "  make notebooks  execute every site notebook and the cross-site notebook"
	@echo "                  into reports/notebooks/ (papermill; one kernel per core, reused)"
	@echo "  make refresh-notebooks  re-execute the committed notebooks in notebooks/"
	@echo "                  after a deliberate data change (nbval compares against them)"
	@echo "  make exchange   REFI-QDA project + codebook for NVivo, ATLAS.ti, MAXQDA,"
	@echo "                  QualCoder -> reports/exchange/kit.qdpx, kit.qdc"
	@echo "  make agreement  sentence-level agreement of the second coding(s) in"
	@echo "                  data/second_coding/ with the kit's coding"
	@echo "  make new-site SITE=slug TEXT=file.txt NAME=... LEVEL=... UNIT=..."
	@echo "                  add a site: text, metadata rows, suggested coding"
	@echo "  make bench      speed figures against the kernel floor -> reports/benchmarks.md"
	@echo "                  (about 90 s; make bench FULL=1 adds the 5000-site corpus)"
	@echo "  make clean      remove generated outputs under reports/ (keeps .venv, data)"
	@echo
	@echo "The first target you run creates .venv (pip install -e '.[dev]')."

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing the kit into $(VENV) (first run only; a few minutes)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)  ## create the virtual environment

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

# Tests run on every core (pytest-xdist); --dist loadfile keeps each file, and so each
# notebook's nbval cells, in order on one worker.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto --dist loadfile tests notebooks --nbval --nbval-current-env \
		--nbval-sanitize-with notebooks/sanitize.cfg -p no:cacheprovider

bench: $(STAMP)  ## quick (about 90 s); FULL=1 adds 5000 sites and the papermill comparison
	$(BIN)/python -m analysis.bench $(if $(FULL),--full)

clean:
	rm -rf reports/tables reports/figures reports/notebooks reports/build reports/cache \
		reports/comparison.pdf reports/benchmarks.md

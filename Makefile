# Everything runs from the project's own virtual environment, created on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DB := demo/tracker.db

.PHONY: all install test lint format demo bench bench-scale fuzz clean

all: install

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: $(STAMP)
	rm -rf demo && mkdir -p demo
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) ingest snapshots/HCPC2026_JAN_SAMPLE.txt snapshots/HCPC2026_APR_SAMPLE.txt snapshots/HCPC2026_JUL_SAMPLE.txt
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) releases
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) show S0353
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) show E0159 --as-of 2026-05-01
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) diff 2026-JAN 2026-APR
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) report 2026-JAN 2026-APR --format html -o demo/report-2026-APR.html
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) report 2026-JAN 2026-APR --format md -o demo/report-2026-APR.md
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) report --year 2026 --format html -o demo/report-2026.html
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) report --year 2026 --format md -o demo/report-2026.md
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) ingest snapshots/icd10cm_FY2019_SAMPLE.zip snapshots/icd10cm_FY2020_SAMPLE.zip
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) show H81.41 --as-of 2019-10-01
	$(BIN)/tracker --db sqlite:///$(DEMO_DB) diff FY2019 FY2020 --code-set icd10cm
	@echo
	@echo "Reports: $(CURDIR)/demo/report-2026-APR.html, demo/report-2026-APR.md, demo/report-2026.html, demo/report-2026.md"
	@echo "Explore: $(BIN)/tracker --db sqlite:///$(DEMO_DB) history J0598"

# The fuzz tests of CI with many more examples per target (FUZZ_EXAMPLES=... to change); the
# examples run are printed at the end. Not derandomized: each run explores new inputs.
FUZZ_EXAMPLES ?= 20000
fuzz: $(STAMP)
	TRACKER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q tests/test_fuzz.py \
		--hypothesis-show-statistics

# The benchmark's peer (pandas + datacompy) and profiler are an extra, installed on first use.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py
	$(BIN)/python bench/serve_load.py

# Load on `tracker serve` over SQLite and PostgreSQL (wrk when installed, else httpx clients):
# requests/s and p50/p99 for $validate-code and the code page at 10 and 50 clients.
.PHONY: bench-serve
bench-serve: $(STAMP)
	$(BIN)/python bench/serve_load.py

# Not part of CI: tens of minutes at full size; `--releases 8 --codes 20000` for a quick look.
bench-scale: $(STAMP)
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) demo build dist .pytest_cache .mypy_cache .ruff_cache

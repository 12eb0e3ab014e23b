# The two commands of the README: `make book` and `make test`. Both create .venv from requirements.txt when needed.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: book test pytest lint book-check sync bench clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: execute every chapter and build the HTML book into _build/html (warnings are errors)
book: $(STAMP)
	$(BIN)/jupyter-book build . -W -n --keep-going
	@echo "Open _build/html/index.html"

## test: lint, a strict book build, then unit tests, repository checks and every chapter through nbmake
test: lint book-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# One pytest run: the unit and repository tests in tests/, and every chapter executed by nbmake.
pytest: $(STAMP)
	$(BIN)/pytest tests notebooks --nbmake --nbmake-timeout=600 --durations=5

# nbmake executes every chapter in the same `make test`; this build checks the book's structure (toc, cross-references,
# citations, equation labels) with warnings as errors, without executing the chapters a second time.
book-check: $(STAMP)
	mkdir -p _build
	sed 's/^\(  *execute_notebooks:\).*/\1 "off"/' _config.yml > _build/_config_check.yml
	$(BIN)/jupyter-book build . -W -n --keep-going --config _build/_config_check.yml --path-output _build/check

## bench: chapter times and memory, throughput and time to Chapter 4's bar vs the reference loop (not in `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/chapter_times.py
	$(BIN)/python benchmarks/dcgan_throughput.py --batch-size 32
	for seed in 0 1; do $(BIN)/python benchmarks/time_to_bar.py --seed $$seed || exit 1; done

## sync: refresh every .ipynb from its .py twin after editing
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

clean:
	rm -rf _build

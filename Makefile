# The two commands of the README: `make book` and `make test`. Both create .venv when needed: the package and its
# book and test tools (requirements.txt: `-e .[dev]`) at the exact versions CI tests (constraints.txt).
VENV   ?= .venv
PYTHON ?= python3
# constraints-lowest.txt: the lowest versions pyproject.toml allows for the package (`make test-lowest`)
CONSTRAINTS ?= constraints.txt
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# `make test` executes the chapters once, in this copy of the book's sources (never in notebooks/, whose .ipynb
# are committed without outputs), and builds the HTML book from the executed copies. Not under _build: nbmake
# skips every path with a `_build` folder in it.
STAGE  := _executed
# The kernels that execute chapters for the book draw figures inline (an inherited MPLBACKEND=Agg, CI's setting, would
# leave the book without figures) and progress bars as text (book/_ext/text_progress.py says why).
IPYDIR := _build/ipython
KERNEL := env -u MPLBACKEND IPYTHONDIR=$(CURDIR)/$(IPYDIR)

# The Chinese edition (tools/zh_edition.py): the English chapters' executed copies with their prose translated
# (locale/zh_CN/), built as a second book into _build/html/zh, so nothing is executed twice. $(1): the folder of
# the executed English chapters.
ZH := _build/zh
define zh-book
	$(BIN)/python tools/zh_edition.py stage --executed $(1) --out $(ZH)/source
	$(BIN)/jupyter-book build $(ZH)/source --all -W -n --keep-going --path-output $(ZH)
	rm -rf _build/html/zh
	cp -R $(ZH)/_build/html _build/html/zh
endef

.PHONY: venv book test translations unit test-lowest test-offline pytest lint stage kernel-setup book-check browser sync bench clean

$(STAMP): requirements.txt pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

## book: execute every chapter and build the HTML book into _build/html (warnings are errors; MathJax is bundled),
## then the Chinese edition from the same executed chapters into _build/html/zh
book: $(STAMP) kernel-setup
	$(KERNEL) $(BIN)/jupyter-book build . -W -n --keep-going
	$(call zh-book,_build/jupyter_execute/notebooks)
	@echo "Open _build/html/index.html (中文版: _build/html/zh/index.html)"

## translations: refresh locale/zh_CN/ after the English changed and list what needs translating (see its README)
translations: $(STAMP)
	$(BIN)/python tools/zh_edition.py update

## test: lint; unit tests and every chapter (nbmake); the strict book build of those runs; the browser test of it
test: lint pytest book-check browser

## unit: the quick loop while editing the package: the unit tests not marked slow, no chapters, no book, no browser
## (`make test` runs them all)
unit: $(STAMP)
	$(BIN)/pytest tests -m "not slow and not browser"

## test-lowest: the unit tests (slow ones included) in .venv-lowest, where the package's dependencies are the lowest
## versions pyproject.toml allows (constraints-lowest.txt); CI runs it after `make test`
test-lowest:
	$(MAKE) VENV=.venv-lowest CONSTRAINTS=constraints-lowest.txt venv
	.venv-lowest/bin/pytest tests -m "not browser" -p no:cacheprovider

# In one make, even `make -j`: the book is built only after pytest has executed the chapters into $(STAGE), and the
# browser reads it only after it is built. CHAIN is pytest, book-check, browser (all three for `make test`), those
# of them asked for, in that order; each waits for the one before it. Alone, `make book-check` builds the staged
# chapters as they are, and `make browser` reads the last build.
ORDER := pytest book-check browser
CHAIN := $(filter $(if $(filter test,$(MAKECMDGOALS)),$(ORDER),$(MAKECMDGOALS)),$(ORDER))
ifneq ($(word 2,$(CHAIN)),)
$(word 2,$(CHAIN)): | $(word 1,$(CHAIN))
endif
ifneq ($(word 3,$(CHAIN)),)
$(word 3,$(CHAIN)): | $(word 2,$(CHAIN))
endif

## test-offline: the unit tests and every chapter on the offline 5,000-digit sample, whatever MNIST files are in
## the data root (the learner's path without a network); no book
test-offline: OFFLINE_ROOT := $(CURDIR)/_build/no-mnist
test-offline:
	mkdir -p $(OFFLINE_ROOT)
	env GANCOURSE_OFFLINE=1 GANCOURSE_DATA=$(OFFLINE_ROOT) $(MAKE) lint pytest

lint: $(STAMP)
	$(BIN)/ruff check .

kernel-setup:
	mkdir -p $(IPYDIR)/profile_default/startup
	cp book/_ext/text_progress.py $(IPYDIR)/profile_default/startup/00-text-progress.py

# What the book is built from, copied: config (execution off), toc, CSS, prose pages and the chapters' .ipynb. A
# chapter is copied again only when notebooks/ has a newer one, so the executed copies nbmake leaves here survive
# until their chapter changes; copies of chapters no longer in notebooks/ are removed.
CHAPTERS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)

$(STAGE)/notebooks/%.ipynb: notebooks/%.ipynb
	mkdir -p $(@D)
	cp $< $@

stage: $(CHAPTERS:%=$(STAGE)/%)
	for copy in $(STAGE)/notebooks/*.ipynb; do [ -f "notebooks/$${copy##*/}" ] || rm "$$copy"; done
	rm -rf $(STAGE)/book $(STAGE)/_static
	cp -R _toc.yml _static book $(STAGE)/
	sed 's/^\(  *execute_notebooks:\).*/\1 "off"/' _config.yml > $(STAGE)/_config.yml

# One pytest run: the unit and repository tests in tests/, and every chapter executed by nbmake. nbmake writes each
# executed chapter (outputs, figures, animations) over its staged copy, so the book below is built without running
# the chapters a second time. The browser test needs that book: it runs in `make browser`, after the build.
pytest: $(STAMP) stage kernel-setup
	$(KERNEL) $(BIN)/pytest tests $(STAGE)/notebooks -m "not browser" --nbmake --overwrite --nbmake-timeout=600 --durations=15

# The strict book build (warnings are errors: toc, cross-references, citations, equation labels) of the staged
# chapters, executed or not, into _build/html: after `make test` it is the whole book, outputs included; then the
# Chinese edition of the same chapters into _build/html/zh.
book-check: $(STAMP) stage
	$(BIN)/jupyter-book build $(STAGE) --all -W -n --keep-going --path-output .
	$(call zh-book,$(STAGE)/notebooks)

## browser: headless Chromium reads every chapter of _build/html (math, figures, buttons, exercises, console);
## screenshots in _build/screenshots/. Skipped, with the reason in pytest's summary, when Chromium is missing.
browser: $(STAMP)
	$(BIN)/pytest tests/test_book_browser.py -m browser

## bench: chapter times and memory, throughput and time to Chapter 4's bar vs the reference loop (not in `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/chapter_times.py
	$(BIN)/python benchmarks/dcgan_throughput.py --batch-size 32
	for seed in 0 1; do $(BIN)/python benchmarks/time_to_bar.py --seed $$seed || exit 1; done

## sync: refresh every .ipynb from its .py twin after editing
sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/*.py

clean:
	rm -rf _build $(STAGE)

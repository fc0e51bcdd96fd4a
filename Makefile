# The two commands: `make run` (serve the directory on the embedded engine) and `make test`;
# `make test-cluster` runs the fault tests that need a 3-node Elasticsearch cluster.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
ROSTER ?= fixtures/roster.csv
# Tests use ELASTICSEARCH_URL when set; otherwise a local node provisioned by scripts/elasticsearch.sh.
TEST_ES_URL := $(if $(ELASTICSEARCH_URL),$(ELASTICSEARCH_URL),http://127.0.0.1:$(or $(PD_ES_PORT),9200))
# The cluster tests use PD_TEST_CLUSTER_URL when set; otherwise the 3 loopback nodes the script starts.
TEST_CLUSTER_URL := $(or $(PD_TEST_CLUSTER_URL),$(shell scripts/elasticsearch.sh cluster-urls))
# Tests use PD_TEST_REDIS_URL when set; otherwise a local Redis started by scripts/redis.sh.
TEST_REDIS_URL := $(or $(PD_TEST_REDIS_URL),redis://127.0.0.1:$(or $(PD_REDIS_PORT),6379)/0)
# The page's translations: catalogs (.po) are committed, compiled catalogs (.mo) are built here.
TRANSLATIONS := app/web/translations
MO := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

.PHONY: run test test-cluster install lint format elasticsearch elasticsearch-stop cluster cluster-stop redis browser translations worker bench bench-imports bench-suggest bench-fhir bench-fhir-export bench-http bench-index bench-assignments clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

install: $(STAMP) $(MO)

# After changing the page's text: collect it into messages.pot and add what is new to each catalog.
translations: install
	cd app && ../$(BIN)/pybabel extract -F web/babel.cfg -k _l --no-location --omit-header \
		--sort-output -o web/translations/messages.pot web search
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--no-fuzzy-matching --ignore-obsolete --width 100

run: install
	env -u ELASTICSEARCH_URL $(BIN)/provider-directory import $(ROSTER)
	env -u ELASTICSEARCH_URL $(BIN)/provider-directory serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

elasticsearch:
	@if [ -z "$(ELASTICSEARCH_URL)" ]; then scripts/elasticsearch.sh start; fi

elasticsearch-stop:
	scripts/elasticsearch.sh stop

# Start each node of the 3-node loopback cluster that does not answer (all of them at first).
cluster:
	@if [ -z "$(PD_TEST_CLUSTER_URL)" ]; then scripts/elasticsearch.sh cluster-start; fi

cluster-stop:
	scripts/elasticsearch.sh cluster-stop

redis:
	@if [ -z "$(PD_TEST_REDIS_URL)" ]; then scripts/redis.sh start; fi

# What the browser tests need: Debian's Chromium and axe-core, each installed only when missing.
browser:
	scripts/chromium.sh
	scripts/axe-core.sh

worker: install
	$(BIN)/celery -A app.worker worker --loglevel=INFO

test: install lint elasticsearch redis browser
	PD_TEST_ELASTICSEARCH_URL=$(TEST_ES_URL) PD_TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m 'not cluster'

test-cluster: install cluster redis
	PD_TEST_CLUSTER_URL=$(TEST_CLUSTER_URL) PD_TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m cluster

bench: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.search $(BENCH_ARGS)

bench-imports: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.imports $(BENCH_ARGS)

bench-suggest: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.suggest $(BENCH_ARGS)

bench-fhir: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.fhir $(BENCH_ARGS)

bench-fhir-export: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.fhir_export $(BENCH_ARGS)

bench-http: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.http $(BENCH_ARGS)

bench-index: install elasticsearch
	PD_BENCH_ELASTICSEARCH_URL=$(TEST_ES_URL) $(BIN)/python -m bench.plain_index $(BENCH_ARGS)

bench-assignments: install
	$(BIN)/python -m bench.assignments $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

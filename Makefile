# The two commands a user needs: `make dev` and `make test`.
# Both create .venv on first use. `make dev` installs only what running the
# stack needs (requirements-local.txt: the Lambda runtime's packages, Chalice,
# moto); `make test` adds the test and lint tools (requirements-dev.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
sum     = $(shell cat $(1) | cksum | cut -d' ' -f1)
STACK_STAMP := $(VENV)/.stack-$(call sum,requirements.txt requirements-local.txt)
DEV_STAMP   := $(VENV)/.dev-$(call sum,requirements.txt requirements-local.txt requirements-dev.txt)

.PHONY: dev upload test lint install system-tools clean deploy destroy reconcile redrive
.PHONY: reconcile-status screenshots

# PORT, LOCAL_AWS_PORT, DATA_DIR, RESET=1, RELOAD=1, WORKERS: see devstack/stack.py.
dev: $(STACK_STAMP)  ## run the whole service locally (emulator, event pump, API); Ctrl-C stops it
	@exec $(BIN)/python -m devstack

# Upload to the running `make dev` stack: make upload FILES="photo.jpg 'my photo.jpg'"
upload: $(STACK_STAMP)
	@$(BIN)/python -m devstack upload $(FILES)

test: $(DEV_STAMP) system-tools  ## lint, then the whole test suite (unit, app, end-to-end)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# The web page's screenshots in docs/images/ (a fresh local stack with sample images; ~30 s).
screenshots: $(DEV_STAMP) system-tools
	$(BIN)/python tests/web/screenshots.py

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A stage on a real AWS account (see README, "Deploy"). The account and region
# come from AWS_PROFILE and AWS_DEFAULT_REGION (or your AWS config); BUCKET=name uses an
# existing bucket, VERSIONING=true keeps old object versions, LOG_RETENTION_DAYS
# (default 30), ALARM_EMAIL=you@example.com gets the stage's alarms. destroy
# keeps the bucket and its images unless DELETE_DATA=1.
deploy: $(STACK_STAMP)  ## bucket + table (CloudFormation), names into .chalice/, chalice deploy
	$(BIN)/python -m ops.deploy deploy --stage "$(or $(STAGE),dev)" \
	  $(if $(BUCKET),--bucket "$(BUCKET)") $(if $(VERSIONING),--versioning "$(VERSIONING)") \
	  $(if $(LOG_RETENTION_DAYS),--log-retention-days "$(LOG_RETENTION_DAYS)") \
	  $(if $(ALARM_EMAIL),--alarm-email "$(ALARM_EMAIL)")

destroy: $(STACK_STAMP)  ## chalice delete + delete the stack (the bucket stays unless DELETE_DATA=1)
	$(BIN)/python -m ops.deploy destroy --stage "$(or $(STAGE),dev)" \
	  $(if $(filter 1 yes true,$(DELETE_DATA)),--delete-data)

# Backfill and repair a stage's catalog from its bucket (default: the running
# local stack, found through its data folder). FORCE=1 re-extracts every object.
# PARALLEL=N starts a job over the work queue for N workers and prints its id.
reconcile: $(STACK_STAMP)  ## make the table equal the bucket again
	@$(BIN)/python -m ops.reconcile --stage "$(or $(STAGE),local)" $(if $(filter 1 yes true,$(FORCE)),--force) \
	  $(if $(PARALLEL),--parallel "$(PARALLEL)")

# A reconcile job's progress (a bar on a terminal, else JSON): make reconcile-status JOB=<id>
reconcile-status: $(STACK_STAMP)
	@$(BIN)/python -m ops.reconcile_status --stage "$(or $(STAGE),local)" --job "$(JOB)"

# Replay the events the handlers failed on (the stage's failed-events queue;
# locally, the event pump's dead-letter queue) through the same handlers.
redrive: $(STACK_STAMP)  ## replay failed events, then report what each did
	@$(BIN)/python -m ops.redrive --stage "$(or $(STAGE),local)"

install: $(DEV_STAMP)

# ExifTool is the reference the extraction is checked against; jq and curl run
# the documentation's examples in the tests; Chromium runs the web page's tests
# (Debian packages).
SYSTEM_TOOLS := exiftool:libimage-exiftool-perl jq:jq curl:curl chromium:chromium
system-tools:
	@missing=; for tool in $(SYSTEM_TOOLS); do \
	  command -v $${tool%%:*} >/dev/null || missing="$$missing $${tool#*:}"; done; \
	[ -z "$$missing" ] || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "make test needs:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	  command -v apt-get >/dev/null || { echo "make test needs:$$missing"; exit 1; }; \
	  echo "make: installing$$missing (Debian packages, about 20 s)"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq $$missing >/dev/null; }

# One line per install step: what, and about how long it takes the first time.
$(BIN)/python:
	@echo "make: creating $(VENV)/ (a few seconds)"
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make: installing python3-venv (Debian package, about 20 s)"; \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "python3 -m venv failed: install your distribution's venv package (Debian/Ubuntu: sudo apt-get install python3-venv)"; exit 1; \
	  fi; }

$(STACK_STAMP): requirements.txt requirements-local.txt | $(BIN)/python
	@echo "make: installing the runtime, Chalice and moto into $(VENV)/ (requirements-local.txt, about 25 s)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-local.txt
	@rm -f $(VENV)/.stack-*
	@touch $@

$(DEV_STAMP): $(STACK_STAMP) requirements-dev.txt
	@echo "make: installing the test and lint tools into $(VENV)/ (requirements-dev.txt, about 40 s)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.dev-*
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The two commands a user needs: `make dev` and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: dev test lint install system-tools clean deploy destroy reconcile redrive

dev: $(STAMP)  ## run the whole service locally (emulator, event pump, chalice local)
	exec $(BIN)/python -m devstack

test: $(STAMP) system-tools  ## lint, then the whole test suite (unit, app, end-to-end)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# A stage on a real AWS account (see README, "Deploy"). The account and region
# come from AWS_PROFILE and AWS_DEFAULT_REGION (or your AWS config); BUCKET=name uses an
# existing bucket, VERSIONING=true keeps old object versions, LOG_RETENTION_DAYS
# (default 30), ALARM_EMAIL=you@example.com gets the stage's alarms. destroy
# keeps the bucket and its images unless DELETE_DATA=1.
deploy: $(STAMP)  ## bucket + table (CloudFormation), names into .chalice/, chalice deploy
	$(BIN)/python -m ops.deploy deploy --stage "$(or $(STAGE),dev)" \
	  $(if $(BUCKET),--bucket "$(BUCKET)") $(if $(VERSIONING),--versioning "$(VERSIONING)") \
	  $(if $(LOG_RETENTION_DAYS),--log-retention-days "$(LOG_RETENTION_DAYS)") \
	  $(if $(ALARM_EMAIL),--alarm-email "$(ALARM_EMAIL)")

destroy: $(STAMP)  ## chalice delete + delete the stack (the bucket stays unless DELETE_DATA=1)
	$(BIN)/python -m ops.deploy destroy --stage "$(or $(STAGE),dev)" \
	  $(if $(filter 1 yes true,$(DELETE_DATA)),--delete-data)

# Backfill and repair a stage's catalog from its bucket (default: the local
# stack, so start `make dev` first). FORCE=1 re-extracts every object.
reconcile: $(STAMP)  ## make the table equal the bucket again
	$(BIN)/python -m ops.reconcile --stage "$(or $(STAGE),local)" $(if $(filter 1 yes true,$(FORCE)),--force)

# Replay the events the handlers failed on (the stage's failed-events queue;
# locally, the event pump's dead-letter queue) through the same handlers.
redrive: $(STAMP)  ## replay failed events, then report what each did
	$(BIN)/python -m ops.redrive --stage "$(or $(STAGE),local)"

install: $(STAMP)

# ExifTool is the reference the extraction is checked against (Debian package).
system-tools:
	@command -v exiftool >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO=sudo; \
	  else echo "make test needs exiftool: sudo apt-get install libimage-exiftool-perl"; exit 1; fi; \
	  command -v apt-get >/dev/null || { echo "make test needs exiftool (package libimage-exiftool-perl)"; exit 1; }; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libimage-exiftool-perl >/dev/null; }

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); \
	  else \
	    echo "python3 -m venv failed: install your distribution's venv package (Debian/Ubuntu: sudo apt-get install python3-venv)"; exit 1; \
	  fi; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

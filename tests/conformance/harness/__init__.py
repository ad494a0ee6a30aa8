"""Conformance harness for ConnLeakGuard; see tests/conformance/run.sh."""

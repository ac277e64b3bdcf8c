"""Processes for the journal crash tests: a broker on loopback and a strategy."""

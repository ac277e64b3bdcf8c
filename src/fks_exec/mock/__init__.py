"""The built-in ``mock`` broker: a deterministic paper-trading simulator for tests."""

from fks_exec.mock.broker import Fill, MockBroker, MockClock, MockOrder
from fks_exec.mock.plugin import MockConfig, MockPlugin

__all__ = ["Fill", "MockBroker", "MockClock", "MockConfig", "MockOrder", "MockPlugin"]

from __future__ import annotations

import fks_exec


def test_all_is_sorted_complete_and_importable() -> None:
    assert fks_exec.__all__ == sorted(fks_exec.__all__)
    for name in fks_exec.__all__:
        assert getattr(fks_exec, name) is not None
    assert set(fks_exec.__all__) == set(fks_exec._EXPORTS) | {"__version__"}


def test_every_public_name_has_a_docstring() -> None:
    for name in fks_exec.__all__:
        if name != "__version__":
            assert getattr(fks_exec, name).__doc__, name


def test_error_hierarchy() -> None:
    errors = [
        "ConfigurationError",
        "PluginNotFound",
        "PluginLoadError",
        "PluginInitError",
        "NotSupported",
        "RoutingError",
        "BrokerUnavailable",
        "DuplicateClientOrderId",
    ]
    for name in errors:
        assert issubclass(getattr(fks_exec, name), fks_exec.FksExecError)

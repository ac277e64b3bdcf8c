"""A small bridge to a MetaTrader 5 terminal running under Wine (Linux, macOS).

``python -m fks_exec_mt5.bridge.server`` runs next to the terminal, in the Windows
Python that has the MetaTrader5 package; the plugin talks to it through
:class:`~fks_exec_mt5.bridge.client.BridgeModule` (``FKS_EXEC_MT5_BRIDGE=fks``). It
exposes only the MetaTrader5 package's functions (no code execution, unlike rpyc's
classic mode), listens on loopback by default, and requires a shared secret (an
HMAC challenge; the secret itself never crosses the wire). Results travel as JSON
field maps, so the package's struct sequences, which do not pickle, cross fine.
"""

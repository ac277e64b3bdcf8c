"""Settings shared by every test directory (tests/, plugins/*/tests, examples/).

Hypothesis' per-example deadline (200 ms by default) is a wall-clock assertion: on a
loaded 2-core machine a sound example can take longer, and the test fails for the
machine's load, not for the code. No test asserts a time (speed is shown by benchmarks/), so the
default profile has no deadline; ``--hypothesis-profile`` still picks another one.
"""

from hypothesis import settings

settings.register_profile("fks-exec-tests", deadline=None)
settings.load_profile("fks-exec-tests")

"""A pytest plugin (`-p hypothesis_profile`) that registers the mutation runs' hypothesis profile.

Hypothesis' deadline measures wall time, which a shared machine makes meaningless; its example
database would make one mutant's verdict depend on the mutants run before it. Both are off.
"""

from hypothesis import settings

PROFILE = "fks-mutation"
settings.register_profile(PROFILE, deadline=None, database=None)

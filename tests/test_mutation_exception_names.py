"""mutation/exception_names.py: cosmic-ray's exception replacer on dotted names in a tuple."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "mutation"))

import exception_names
from cosmic_ray.mutating import mutate_code
from cosmic_ray.plugins import get_operator

SOURCE = """\
import asyncio
try:
    pass
except (OSError, asyncio.TimeoutError) as exc:
    pass
except concurrent.futures.TimeoutError:
    pass
"""


def mutants() -> list[str]:
    operator = get_operator("core/ExceptionReplacer")()
    made = []
    for occurrence in range(3):
        mutated = mutate_code(SOURCE, operator, occurrence)
        assert mutated is not None
        made.append(mutated)
    return made


def test_every_name_of_a_tuple_is_replaced_in_turn_a_dotted_one_whole() -> None:
    exception_names.install()
    first, second, single = mutants()
    assert "except (CosmicRayTestingException, asyncio.TimeoutError) as exc:" in first
    assert "except (OSError, CosmicRayTestingException) as exc:" in second
    for mutated in (first, second):  # nothing else changed
        assert mutated.replace("CosmicRayTestingException", "X").count("X") == 1
        assert "concurrent.futures.TimeoutError:" in mutated
    assert single != SOURCE and "except (OSError, asyncio.TimeoutError) as exc:" in single
    compile(second, "<mutant>", "exec")

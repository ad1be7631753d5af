"""moto's whole state, copied and put back: what lets a pooled stack start each test where its
checkpoint left it, without creating its resources and fetching its papers again.

moto keeps every service's data in its backends (`BackendDict` -> account -> region -> backend). A
copy of all of them taken in one `deepcopy` keeps the references between them (a topic's
subscription to a queue); putting a fresh copy back leaves the snapshot untouched for the next test.
"""

from __future__ import annotations

import contextlib
import copy
import copyreg
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict, BaseBackend
from moto.ssm.models import ParameterDict


def _parameter_dict(account_id: str, region_name: str) -> ParameterDict:
    return ParameterDict(account_id, region_name)


def _reduce_parameters(parameters: ParameterDict) -> tuple[Any, ...]:
    # ParameterDict needs its account and region to be built; deepcopy's default passes nothing.
    where = (parameters.account_id, parameters.region_name)
    return _parameter_dict, where, dict(vars(parameters)), None, iter(parameters.items())


# A lock or condition cannot be copied; nobody holds one while the stack is between calls, so a copy
# gets a new one. SQS keeps a Condition per queue.
_REDUCERS: dict[type, Any] = {
    type(threading.RLock()): lambda _: (threading.RLock, ()),
    type(threading.Lock()): lambda _: (threading.Lock, ()),
    threading.Condition: lambda _: (threading.Condition, ()),
    ParameterDict: _reduce_parameters,
}


@contextlib.contextmanager
def _copyable() -> Iterator[None]:
    """The reducers above, registered only while a copy is made."""
    saved = {kind: copyreg.dispatch_table.get(kind) for kind in _REDUCERS}
    copyreg.dispatch_table.update(_REDUCERS)
    try:
        yield
    finally:
        for kind, reducer in saved.items():
            if reducer is None:
                copyreg.dispatch_table.pop(kind, None)
            else:
                copyreg.dispatch_table[kind] = reducer


def _copy(value: Any) -> Any:
    with _copyable():
        return copy.deepcopy(value)


@dataclass(frozen=True)
class MotoState:
    places: list[tuple[BackendDict[Any], str, str]]
    backends: list[BaseBackend]

    @classmethod
    def take(cls) -> MotoState:
        """A copy of every backend moto holds now."""
        places, backends = [], []
        for backend_dict in BackendDict._instances:
            for account, regions in backend_dict.items():
                for region, backend in regions.items():
                    places.append((backend_dict, account, region))
                    backends.append(backend)
        return cls(places, _copy(backends))

    def put_back(self) -> None:
        """moto holds exactly what it held when the state was taken (a fresh copy of it)."""
        for backend_dict in BackendDict._instances:
            backend_dict.clear()
        BackendDict._instances.clear()
        for (backend_dict, account, region), backend in zip(self.places, _copy(self.backends), strict=True):
            backend_dict[account][region] = backend

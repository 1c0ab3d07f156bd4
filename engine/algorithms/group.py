"""One algorithm's own settings, read as attributes (``settings.method.epsilon``): the
values of its spec's settings, plus the values the spec fixes (IPO's loss_type). A
setting of another algorithm is an AttributeError, not a silently unused default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.algorithms.spec import AlgorithmSpec
from engine.errors import SettingsError


class MethodSettings:
    __slots__ = ("_fixed", "_values", "algorithm")

    def __init__(self, algorithm: str, values: Mapping[str, Any], fixed: Mapping[str, Any]):
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "_values", dict(values))
        object.__setattr__(self, "_fixed", dict(fixed))

    @classmethod
    def defaults(cls, spec: AlgorithmSpec) -> MethodSettings:
        return cls.build(spec, {})

    @classmethod
    def build(cls, spec: AlgorithmSpec, given: Mapping[str, Any]) -> MethodSettings:
        """The spec's defaults with ``given`` on top; a name the spec lacks is refused."""
        unknown = sorted(set(given) - set(spec.setting_names()))
        if unknown:
            raise SettingsError(
                f"{spec.name} has no setting(s) {', '.join(unknown)}.",
                f"Its own settings: {', '.join(spec.setting_names()) or 'none'}.",
            )
        values = {s.name: given.get(s.name, s.default) for s in spec.settings}
        return cls(spec.name, values, dict(spec.fixed))

    def validate(self, spec: AlgorithmSpec) -> None:
        """SettingsError naming the first value the spec's settings do not accept."""
        for setting in spec.settings:
            spec.setting(setting.name).check(self._values[setting.name])

    def __getattr__(self, name: str) -> Any:
        values, fixed = object.__getattribute__(self, "_values"), self._fixed
        if name in values:
            return values[name]
        if name in fixed:
            return fixed[name]
        raise AttributeError(f"{self.algorithm} has no setting {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are read-only; build new ones")

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name``, or ``default`` where this algorithm has no such setting."""
        try:
            return getattr(self, name)
        except AttributeError:
            return default

    def to_dict(self) -> dict[str, Any]:
        """The values of the algorithm's own settings (not the fixed ones)."""
        return dict(self._values)

    def __reduce__(self) -> tuple[Any, ...]:  # pickle and deepcopy (the slots are read-only)
        return (MethodSettings, (self.algorithm, self._values, self._fixed))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MethodSettings):
            return NotImplemented
        return (self.algorithm, self._values) == (other.algorithm, other._values)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking values (lists) inside

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._values.items())
        return f"MethodSettings({self.algorithm}: {inner})"

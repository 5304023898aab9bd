"""Command-line options built from `TrainConfig`'s fields, so a setting is declared (and documented) once.

Typer reads a command's options from its function signature. `with_settings("sweep")` adds one
keyword option per training setting offered on `sweep` (`training.config.setting(commands=...)`,
help text and flag name from the field) and hands the command the ones given on the command line
as a dict, so no command lists, or excludes, setting names by hand.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from dataclasses import Field, fields
from typing import Annotated, Any

import typer

from ..training.config import TrainConfig

GIVEN = "flags"  # the parameter through which a command receives the settings given as flags


def _cli_type(hint: Any) -> type:
    """What the flag parses: the field's type without None; a union such as `int | str` stays text."""
    kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)] or [hint]
    if len(kinds) == 1 and kinds[0] in (str, int, float, bool):
        return kinds[0]
    return str  # e.g. label_column: a column index or name, read by the command


def _only_turns_on(spec: Field, kind: type) -> bool:
    """A boolean flag given without a `--no-` form (`--resume`): absent means not given, not False."""
    return kind is bool and spec.metadata.get("flag") is not None and "/" not in spec.metadata["flag"]


def setting_parameters(command: str) -> list[inspect.Parameter]:
    """One keyword parameter (a Typer option) per training setting offered on `command`."""
    hints = typing.get_type_hints(TrainConfig)
    parameters = []
    for spec in fields(TrainConfig):
        if command not in spec.metadata.get("commands", ()):
            continue
        kind = _cli_type(hints[spec.name])
        name = "--" + spec.name.replace("_", "-")
        flag = spec.metadata.get("flag") or (f"{name}/--no-{name[2:]}" if kind is bool else name)
        declarations = [flag, *([spec.metadata["short"]] if spec.metadata.get("short") else [])]
        option = typer.Option(*declarations, help=spec.metadata["help"])
        if _only_turns_on(spec, kind):
            annotation, default = Annotated[bool, option], False
        else:
            annotation, default = Annotated[kind | None, option], None
        parameters.append(inspect.Parameter(spec.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                            annotation=annotation))
    return parameters


def with_settings(command: str) -> Callable[[Callable], Callable]:
    """Decorate a command whose first parameter is `flags`: it gets the training settings given as flags."""

    def decorate(function: Callable) -> Callable:
        own = inspect.signature(function, eval_str=True)
        if next(iter(own.parameters), None) != GIVEN:
            raise TypeError(f"{function.__name__} must take `{GIVEN}` first: the settings given as flags")
        added = setting_parameters(command)
        clash = {p.name for p in added} & set(own.parameters)
        if clash:
            raise TypeError(f"{function.__name__}: its options {sorted(clash)} are also training settings")
        hints = typing.get_type_hints(TrainConfig)
        on_only = {spec.name for spec in fields(TrainConfig) if _only_turns_on(spec, _cli_type(hints[spec.name]))}
        names = [p.name for p in added]

        def wrapper(**values: Any) -> Any:
            given = {}
            for name in names:
                value = values.pop(name)
                if value is not None and not (name in on_only and value is False):
                    given[name] = value
            return function(given, **values)

        parameters = [p for name, p in own.parameters.items() if name != GIVEN]
        keyword = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in parameters]
        wrapper.__signature__ = own.replace(parameters=[*keyword, *added])
        wrapper.__annotations__ = {p.name: p.annotation for p in (*keyword, *added)}
        for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):  # not __wrapped__: the signature is new
            setattr(wrapper, attribute, getattr(function, attribute))
        return wrapper

    return decorate

"""The base of every settings model of the product (`AMF1_*` environment variables).

Each package's `Settings` extends `AMF1Settings` (and the field groups of
`logshipping.settings_groups` it reads) with its own fields only, so a variable is declared once,
with one type and one default. The base gives every model the same behaviour:

- an explicit argument beats the environment, which beats the default;
- every `SecretStr` field can be read from a file named by `AMF1_<NAME>_FILE` (container
  secrets) when neither an argument nor `AMF1_<NAME>` sets it;
- a placeholder secret (`changeme`, ...) is refused outside development;
- the values of its `SecretStr` fields are registered with `logshipping.redaction` when a model
  is built, so no log event of the process shows them;
- fields of nested models can keep flat variable names (`flat_variables`): the monitoring
  defaults live in one nested model while users keep setting `AMF1_DRIFT_WINDOW_SIZE`.
"""

from __future__ import annotations

import json
import os
import types
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Final, Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from logshipping.redaction import SECRET_KEY, register_secrets

ENV_PREFIX: Final = "AMF1_"
FILE_SUFFIX: Final = "_FILE"
Environment = Literal["development", "test", "staging", "production"]
Origin = Literal["argument", "environment", "file", "default"]
# Values people paste from examples; refused as a secret outside development.
PLACEHOLDERS: Final = frozenset(
    {
        "changeme",
        "change-me",
        "changethis",
        "placeholder",
        "secret",
        "token",
        "admin",
        "password",
        "xxx",
    }
)


def is_secret(annotation: Any) -> bool:
    """Whether a field of this type holds a secret (`SecretStr`, possibly optional)."""
    if annotation is SecretStr:
        return True
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(is_secret(arg) for arg in typing.get_args(annotation))
    return False


def secret_values(model: BaseModel) -> list[str]:
    """The values of every `SecretStr` field of `model`, nested models included."""
    values: list[str] = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            values.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            values.extend(secret_values(value))
    return [v for v in values if v]


def _environ() -> dict[str, str]:
    # pydantic-settings matches names case-insensitively; so do our own sources.
    return {key.upper(): value for key, value in os.environ.items()}


# A secret file is a token or a URL; anything bigger is not read for redaction.
_MAX_SECRET_FILE_BYTES: Final = 64 << 10


def environment_secrets() -> list[str]:
    """Values of the `AMF1_*` variables (and `*_FILE`s) whose names look secret.

    The redaction key rule applied to this process's environment: a process redacts a secret it
    was given even when none of its settings models reads that variable (a service container
    given the watcher's webhook or the Elasticsearch password).
    """
    values: list[str] = []
    for name, value in _environ().items():
        if not name.startswith(ENV_PREFIX) or not SECRET_KEY.search(name):
            continue
        if not name.endswith(FILE_SUFFIX):
            values.append(value)
            continue
        try:
            path = Path(value)
            if path.stat().st_size <= _MAX_SECRET_FILE_BYTES:
                values.append(path.read_text(encoding="utf-8").strip())
        except (OSError, UnicodeDecodeError):
            continue  # the settings model that reads it reports the problem
    return values


def describe_errors(exc: ValidationError) -> str:
    """A settings validation error for people: one line per problem, naming the variable.

    Never the input: pydantic's own text quotes the values it was given (`input_value=...`),
    secrets included, and a model-level error quotes all of them.
    """
    lines: list[str] = []
    for error in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = error["loc"]
        name = f"{ENV_PREFIX}{str(loc[0]).upper()}" if loc else None
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.extend(f"{name}: {line}" if name else line for line in message.splitlines())
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Variable:
    """One environment variable of a settings model: its name, where it lands, its field."""

    name: str
    path: tuple[str, ...]
    field: FieldInfo
    secret: bool


class _SecretFiles(PydanticBaseSettingsSource):
    """`AMF1_<NAME>_FILE` for every `SecretStr` field: the file's stripped content is the value."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = _environ()
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            env_name = f"{ENV_PREFIX}{name.upper()}"
            file_name = environ.get(f"{env_name}{FILE_SUFFIX}")
            if is_secret(field.annotation) and file_name and env_name not in environ:
                values[name] = Path(file_name).read_text(encoding="utf-8").strip()
        return values


class _FlatVariables(PydanticBaseSettingsSource):
    """Flat variable names (`AMF1_DRIFT_WINDOW_SIZE`) of fields inside nested models."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        environ = _environ()
        values: dict[str, Any] = {}
        for variable in variables(self.settings_cls):
            if len(variable.path) > 1 and variable.name in environ:
                raw = environ[variable.name]
                value = json.loads(raw) if self.field_is_complex(variable.field) else raw
                _set_path(values, variable.path, value)
        return values


def _set_path(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        values = values.setdefault(key, {})
    values[path[-1]] = value


def variables(cls: type[BaseModel]) -> Iterator[Variable]:
    """Every environment variable of settings class `cls`, in declaration order."""
    flat: Mapping[str, tuple[str, ...]] = getattr(cls, "flat_variables", {})
    nested = {path[0] for path in flat.values()}
    for name, field in cls.model_fields.items():
        if name in nested:
            continue
        yield Variable(f"{ENV_PREFIX}{name.upper()}", (name,), field, is_secret(field.annotation))
    for flat_name, path in flat.items():
        model: type[BaseModel] = cls
        for key in path[:-1]:
            annotation = model.model_fields[key].annotation
            assert isinstance(annotation, type)
            model = annotation
        field = model.model_fields[path[-1]]
        yield Variable(f"{ENV_PREFIX}{flat_name.upper()}", path, field, False)


class AMF1Settings(BaseSettings):
    """The base of every package's settings: prefix, sources, secrets, the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    # Flat variable name (without prefix) -> path of a field inside a nested model.
    flat_variables: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    environment: Environment = Field(
        "development",
        description="Deployment environment (ECS `service.environment`, the spans' "
        "`deployment.environment.name`); outside development placeholder secrets are refused.",
    )

    _arguments: frozenset[str] = PrivateAttr(default=frozenset())

    def __init__(self, **values: Any) -> None:
        """Read the environment; `values` are explicit arguments and win over it."""
        super().__init__(**values)
        self._arguments = frozenset(values)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then `AMF1_*` variables (flat names included), then `AMF1_*_FILE` secrets."""
        return (
            init_settings,
            env_settings,
            _FlatVariables(settings_cls),
            _SecretFiles(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_arguments(cls, data: Any) -> Any:
        """`Settings(drift_window_size=...)` sets the nested field, as its variable does."""
        if not isinstance(data, dict) or not cls.flat_variables:
            return data
        for flat_name, path in cls.flat_variables.items():
            if flat_name in data:
                value = data.pop(flat_name)
                if isinstance(data.get(path[0]), BaseModel):
                    data[path[0]] = data[path[0]].model_dump()
                _set_path(data, path, value)
        return data

    @model_validator(mode="after")
    def _check_and_register_secrets(self) -> AMF1Settings:
        """Refuse placeholder secrets outside development; register the rest for redaction."""
        for variable in variables(type(self)):
            value = getattr(self, variable.path[0]) if variable.secret else None
            if (
                isinstance(value, SecretStr)
                and self.environment != "development"
                and value.get_secret_value().strip().lower() in PLACEHOLDERS
            ):
                raise ValueError(f"{variable.name} is a placeholder in {self.environment}")
        register_secrets(secret_values(self))
        return self

    def origin(self, variable: Variable) -> Origin:
        """Where the value of `variable` came from."""
        flat_name = variable.name.removeprefix(ENV_PREFIX).lower()
        if variable.path[0] in self._arguments or flat_name in self._arguments:
            return "argument"
        environ = _environ()
        if variable.name in environ:
            return "environment"
        if variable.secret and f"{variable.name}{FILE_SUFFIX}" in environ:
            return "file"
        return "default"

    def value(self, variable: Variable) -> Any:
        """The effective value of `variable` (a secret stays a `SecretStr`)."""
        value: Any = self
        for key in variable.path:
            value = getattr(value, key)
        return value

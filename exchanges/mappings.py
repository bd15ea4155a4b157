"""Column mappings: named, versioned YAML files in exchanges/mappings/ (`<name>-v<version>.yaml`).

`registre` is the documented default (mappings/registre-v1.yaml). A territory whose export names its
columns differently ships another file; a change of columns is a new version, so an import always
records which mapping (name and version) read its file.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError

DIRECTORY = Path(__file__).with_name("mappings")
DEFAULT = "registre"
FILE_NAME = re.compile(r"^(?P<name>[a-z0-9-]+)-v(?P<version>\d+)\.yaml$")
MEMBER_FIELDS = ("first_name", "last_name", "relationship", "birth_date")


@dataclass(frozen=True)
class Mapping:
    name: str
    version: int
    label: str
    columns: dict  # model field → column header
    delimiter: str = ";"
    members: dict = field(default_factory=dict)  # max, and a header pattern per member field
    values: dict = field(default_factory=dict)  # field → {word of the file: code}

    @property
    def key(self) -> str:
        return f"{self.name}@{self.version}"

    def member_columns(self) -> list[dict]:
        """[{member field: header}] for members 1..max."""
        if not self.members:
            return []
        return [{f: self.members[f].format(n=n) for f in MEMBER_FIELDS} for n in range(1, int(self.members["max"]) + 1)]


def _load(path: Path) -> Mapping:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Mapping(
        name=data["name"],
        version=int(data["version"]),
        label=data.get("label", data["name"]),
        columns=dict(data["columns"]),
        delimiter=data.get("delimiter", ";"),
        members=dict(data.get("members") or {}),
        values={k: dict(v) for k, v in (data.get("values") or {}).items()},
    )


def available() -> list[Mapping]:
    found = []
    for path in sorted(DIRECTORY.glob("*.yaml")):
        if FILE_NAME.match(path.name):
            found.append(_load(path))
    return sorted(found, key=lambda m: (m.name, m.version))


def get(spec: str = DEFAULT) -> Mapping:
    """`name` (its highest version) or `name@version`."""
    name, _sep, version = (spec or DEFAULT).partition("@")
    candidates = [m for m in available() if m.name == name and (not version or str(m.version) == version)]
    if not candidates:
        known = ", ".join(m.key for m in available())
        raise ValidationError(f"Modèle de colonnes inconnu : « {spec} ». Modèles disponibles : {known}.")
    return candidates[-1]


def choices() -> list[tuple[str, str]]:
    return [(m.key, f"{m.label} (v{m.version})") for m in available()]

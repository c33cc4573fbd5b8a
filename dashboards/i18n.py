"""The one dictionary of page labels (dashboards/labels.yml), Chinese and English.

Every word on a page comes from ``labels.yml`` through ``t(key)``; the site is
rendered once per language (Chinese at the root, English under ``en/``) from
the same templates, so the two can only differ in their words. A key missing
from the dictionary, or missing one language, is an error at render time, not
a blank on a page.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

LABELS_FILE = Path(__file__).resolve().parent / "labels.yml"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
# The folder of each language's pages inside the build folder.
LANGUAGE_DIRS = {"zh": "", "en": "en/"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}


class LabelError(KeyError):
    """A label key that the dictionary lacks."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice (plain YAML keeps the last)."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ValueError(f"{key_node.start_mark.name}:{key_node.start_mark.line + 1}: label {key!r} is given twice")
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


@lru_cache(maxsize=None)
def load_labels(path: Path = LABELS_FILE) -> dict[str, dict[str, str]]:
    """key -> {language: text}; every key must have every language, once."""
    with open(path, encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=_UniqueKeyLoader) or {}
    labels: dict[str, dict[str, str]] = {}
    for key, texts in raw.items():
        if not isinstance(texts, dict) or set(texts) != set(LANGUAGES):
            raise ValueError(f"{path}: label {key!r} must give exactly {', '.join(LANGUAGES)}")
        labels[str(key)] = {lang: str(texts[lang]) for lang in LANGUAGES}
    return labels


class Translator:
    """t(key) in one language; t(key, value=...) fills {value}-style fields."""

    def __init__(self, language: str, labels: dict[str, dict[str, str]] | None = None) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; expected one of {LANGUAGES}")
        self.language = language
        self.labels = labels if labels is not None else load_labels()

    def __call__(self, key: str, **fields) -> str:
        try:
            text = self.labels[key][self.language]
        except KeyError:
            raise LabelError(f"label {key!r} is not in dashboards/labels.yml") from None
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        return key in self.labels

    def value(self, prefix: str, value, fallback: str | None = None) -> str:
        """The label of an enumeration value (``status.active``); values the
        dictionary does not know (a model name, a district) show as they are."""
        if value is None:
            return self(f"{prefix}.none") if self.has(f"{prefix}.none") else (fallback or "—")
        key = f"{prefix}.{value}"
        return self(key) if self.has(key) else str(value)

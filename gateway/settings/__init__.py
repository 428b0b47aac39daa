"""Gateway settings the owner edits at run time: stored over the config file, audited, applied."""

from doorstep.gateway.settings.sections import SECTIONS, FileOnly, SectionSpec, file_only
from doorstep.gateway.settings.service import (
    InvalidSetting,
    Problem,
    RuntimeSettings,
    SectionView,
    SettingsError,
    UnknownSetting,
)

__all__ = [
    "SECTIONS",
    "FileOnly",
    "InvalidSetting",
    "Problem",
    "RuntimeSettings",
    "SectionSpec",
    "SectionView",
    "SettingsError",
    "UnknownSetting",
    "file_only",
]

"""Import files of input → output pairs into a project: formats, column mapping, quarantine.

``import_file(store, path, quarantine_dir=...)`` is the one entry point; readers register with
:func:`register_format` and chat formats with :func:`register_chat_format`.
"""

from curation.importing.formats import FORMATS, FileFormat, RawRow, register_format
from curation.importing.importer import MAX_FIELD_BYTES, ImportReport, all_format_names, import_file
from curation.importing.preview import ImportPreview, preview_file
from curation.importing.shapes import CHAT_FORMATS, ColumnMapping, register_chat_format

__all__ = [
    "CHAT_FORMATS",
    "FORMATS",
    "MAX_FIELD_BYTES",
    "ColumnMapping",
    "FileFormat",
    "ImportPreview",
    "ImportReport",
    "RawRow",
    "all_format_names",
    "import_file",
    "preview_file",
    "register_chat_format",
    "register_format",
]

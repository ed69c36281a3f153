"""What the import page keeps and shows besides the preview: uploads kept by base name, quarantine rows.

(``preview_file`` itself is tested with the import formats.)"""

from __future__ import annotations

import json

import pytest

from curation.errors import BadInputError
from curation.importing.preview import read_quarantine, save_upload


def test_an_upload_is_kept_by_its_base_name_inside_the_project(tmp_path):
    saved = save_upload(tmp_path / "proj", "../../etc/evil.csv", b"a,b\n")
    assert saved == tmp_path / "proj" / "uploads" / "evil.csv"
    assert saved.read_bytes() == b"a,b\n"
    with pytest.raises(BadInputError):
        save_upload(tmp_path / "proj", "..", b"")


def test_quarantine_rows_are_read_up_to_a_limit(tmp_path):
    file = tmp_path / "q.jsonl"
    file.write_text("\n".join(json.dumps({"row": i, "reason": "empty output"}) for i in range(5)) + "\n\n")
    assert [r["row"] for r in read_quarantine(file, limit=3)] == [0, 1, 2]

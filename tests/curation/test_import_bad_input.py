"""Import of bad input: each case of issue 2 §4 has a defined behaviour, tested here.

BOM, non-UTF-8 encodings, mojibake, empty fields, fields over 1 MB, NaN, duplicate ids, ragged CSV
rows, a truncated last JSONL line, an empty file, a file that is not what its extension says, and a
file where every row is bad; plus the quarantine file's place and shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from curation.errors import BadInputError
from curation.importing import MAX_FIELD_BYTES
from tests.curation.import_helpers import Importer, jsonl, read_quarantine, write_file


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    made = Importer(tmp_path / "proj")
    yield made
    made.close()


def test_utf8_bom_is_stripped(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "bom.csv", b"\xef\xbb\xbfprompt,response\nCaf\xc3\xa9?,Oui\n")
    report = importer(path)
    assert (report.imported, report.warnings) == (1, [])
    assert importer.records()[0].input == "Café?"
    jsonl_path = write_file(
        tmp_path, "bom.jsonl", b"\xef\xbb\xbf" + jsonl({"prompt": "a", "response": "b"}).encode()
    )
    assert importer(jsonl_path).imported == 1


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16"])
def test_non_utf8_encodings_are_decoded_with_a_warning(
    importer: Importer, tmp_path: Path, encoding: str
) -> None:
    text = (
        "instruction,response\n"
        "Où est ma commande ?,Votre commande arrive à Noël. Désolé pour le délai.\n"
        "Pourquoi être débité deux fois ?,Nous allons vérifier et rembourser très vite.\n"
    )
    report = importer(write_file(tmp_path, "latin.csv", text.encode(encoding)))
    assert report.imported == 2
    assert any("not UTF-8" in w for w in report.warnings)
    assert [r.input for r in importer.records()] == [
        "Où est ma commande ?",
        "Pourquoi être débité deux fois ?",
    ]


def test_mojibake_is_fixed_with_a_warning(importer: Importer, tmp_path: Path) -> None:
    broken = "cafÃ© au lait"  # "café" encoded as UTF-8 and decoded as Latin-1 once
    path = write_file(tmp_path, "moji.csv", f"prompt,response,note\nOne {broken}?,Sure,fine\nPlain,text,ok\n")
    report = importer(path)
    assert report.imported == 2
    assert importer.records()[0].input == "One café au lait?"
    assert any("mojibake" in w and "1 field" in w and "row 1" in w for w in report.warnings)


def test_correct_text_is_not_changed_by_the_mojibake_fix(importer: Importer, tmp_path: Path) -> None:
    text = "“Quoted” ﬁne — ＦＵＬＬ width, naïve"
    report = importer(write_file(tmp_path, "ok.jsonl", jsonl({"prompt": text, "response": "x"})))
    assert report.warnings == []
    assert importer.records()[0].input == text


def test_empty_input_is_rejected_and_empty_output_is_imported(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "empty.csv", "prompt,response\n   ,an answer\nA question,\n")
    report = importer(path)
    assert (report.imported, report.rejected) == (1, 1)
    assert importer.records()[0].output == ""
    [reject] = read_quarantine(report)
    assert (reject["row"], reject["line"], reject["reason"]) == (1, 2, "input is empty")


def test_fields_over_one_megabyte_are_rejected_naming_field_and_size(
    importer: Importer, tmp_path: Path
) -> None:
    huge = "x" * (MAX_FIELD_BYTES + 200_000)
    path = write_file(tmp_path, "big.csv", f'prompt,response\nsmall,ok\nq,"{huge}"\n')
    report = importer(path)
    assert (report.imported, report.rejected) == (1, 1)
    [reject] = read_quarantine(report)
    assert reject["reason"] == "field 'response' is 1.2 MB, over the 1 MB limit"
    assert len(reject["raw"]["response"]) < 2000 and "characters; cut here" in reject["raw"]["response"]


def test_nan_in_input_or_output_is_rejected_and_in_metadata_is_dropped(
    importer: Importer, tmp_path: Path
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "nan.parquet"
    table = pa.table(
        {
            "prompt": ["ok", None, "no output"],
            "response": ["fine", "x", None],
            "score": [math.nan, 1.0, 2.0],
            "tag": [None, "a", "b"],
        }
    )
    pq.write_table(table, path)
    report = importer(path)
    assert (report.imported, report.rejected) == (1, 2)
    assert importer.records()[0].metadata == {}
    reasons = [r["reason"] for r in read_quarantine(report)]
    assert reasons == [
        "input is missing (null or NaN in 'prompt')",
        "output is missing (null or NaN in 'response')",
    ]
    assert read_quarantine(report)[0]["raw"] == {"prompt": None, "response": "x", "score": 1.0, "tag": "a"}


def test_nan_in_json_is_rejected_and_quarantine_stays_valid_json(importer: Importer, tmp_path: Path) -> None:
    text = '{"prompt": NaN, "response": "x"}\n{"prompt": "a", "response": "b", "w": NaN}\n'
    report = importer(write_file(tmp_path, "nan.jsonl", text))
    assert (report.imported, report.rejected) == (1, 1)
    assert importer.records()[0].metadata == {}
    raw_line = Path(report.quarantine_file or "").read_text(encoding="utf-8")
    strict = json.loads(raw_line, parse_constant=lambda c: pytest.fail(f"quarantine holds {c}"))
    assert strict["raw"]["prompt"] is None


def test_duplicate_ids_reject_the_second_occurrence(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "ids.csv", "id,prompt,response\na1,x,y\nb2,p,q\na1,other,row\n")
    report = importer(path)
    assert (report.imported, report.rejected) == (2, 1)
    [reject] = read_quarantine(report)
    assert (reject["row"], reject["reason"]) == (3, "duplicate id 'a1' (first at row 1)")
    assert reject["raw"] == {"id": "a1", "prompt": "other", "response": "row"}


def test_ragged_csv_rows_are_rejected_naming_line_and_counts(importer: Importer, tmp_path: Path) -> None:
    text = (
        "prompt,response,channel\n"
        'first,"an answer\nover two lines",email\n'
        "too,many,fields,here\n"
        "too few\n"
        "last,fine,chat\n"
    )
    report = importer(write_file(tmp_path, "ragged.csv", text))
    assert (report.rows_read, report.imported, report.rejected) == (4, 2, 2)
    rejects = read_quarantine(report)
    assert [(r["row"], r["line"]) for r in rejects] == [(2, 4), (3, 5)]
    assert rejects[0]["reason"] == "line 4: too many fields: 4, the header has 3"
    assert rejects[1]["reason"] == "line 5: too few fields: 1, the header has 3"
    assert rejects[0]["raw"] == ["too", "many", "fields", "here"]
    assert [r.source.row for r in importer.records()] == [1, 4]


def test_truncated_last_jsonl_line_is_rejected_and_the_rest_imported(
    importer: Importer, tmp_path: Path
) -> None:
    text = (
        jsonl({"prompt": "a", "response": "A"}, {"prompt": "b", "response": "B"}) + '{"prompt": "c", "respo'
    )
    report = importer(write_file(tmp_path, "cut.jsonl", text))
    assert (report.imported, report.rejected) == (2, 1)
    [reject] = read_quarantine(report)
    assert (reject["row"], reject["line"]) == (3, 3)
    assert reject["reason"].startswith("line 3: not valid JSON (the last line looks cut off)")
    assert reject["raw"] == '{"prompt": "c", "respo'


def test_a_broken_line_in_the_middle_is_not_called_cut_off(importer: Importer, tmp_path: Path) -> None:
    text = '{"prompt": "a", "response": "A"}\n{oops}\n["a list"]\n{"prompt": "b", "response": "B"}\n'
    report = importer(write_file(tmp_path, "mid.jsonl", text))
    reasons = [r["reason"] for r in read_quarantine(report)]
    assert reasons[0].startswith("line 2: not valid JSON: ") and "cut off" not in reasons[0]
    assert reasons[1] == "line 3: expected a JSON object, got list"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.csv", b""),
        ("blank.csv", b"\n  \n"),
        ("bom-only.jsonl", b"\xef\xbb\xbf"),
        ("empty.json", b""),
        ("empty.tsv", b"\n"),
    ],
)
def test_an_empty_file_is_refused(importer: Importer, tmp_path: Path, name: str, content: bytes) -> None:
    with pytest.raises(BadInputError, match="file is empty"):
        importer(write_file(tmp_path, name, content))


def test_a_header_without_rows_is_refused(importer: Importer, tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="header but no data rows"):
        importer(write_file(tmp_path, "head.csv", "prompt,response\n"))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("data.csv", '[{"prompt": "a"}]', "data.csv looks like JSON, not CSV; pass --format json"),
        (
            "data.csv",
            jsonl({"a": 1}, {"a": 2}),
            "data.csv looks like JSON Lines, not CSV; pass --format jsonl",
        ),
        ("data.csv", b"PAR1\x00\x00binary", "data.csv looks like Parquet, not CSV; pass --format parquet"),
        (
            "data.json",
            "prompt,response\na,b\n",
            "data.json looks like CSV or other text, not JSON; pass --format csv",
        ),
        ("data.json", jsonl({"a": 1}, {"a": 2}), "data.json looks like JSON Lines .*pass --format jsonl"),
        ("data.jsonl", '[{"prompt": "a"}]', "data.jsonl looks like JSON \\(one array\\), not JSONL"),
        ("data.parquet", "prompt,response\na,b\n", "data.parquet looks like CSV or other text, not PARQUET"),
        ("data.csv", b"PK\x03\x04zipped", "data.csv looks like a zip archive, not CSV; check the file"),
    ],
)
def test_a_file_that_is_not_what_its_extension_says(
    importer: Importer, tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    with pytest.raises(BadInputError, match=message):
        importer(write_file(tmp_path, name, content))
    assert importer.store.count_records() == 0


def test_every_row_bad_still_writes_quarantine_and_imports_nothing(
    importer: Importer, tmp_path: Path
) -> None:
    path = write_file(tmp_path, "all-bad.csv", "prompt,response\n,a\nx,y,z\n  ,b\n")
    report = importer(path)
    assert (report.rows_read, report.imported, report.rejected) == (3, 0, 3)
    assert importer.store.count_records() == 0
    assert len(read_quarantine(report)) == 3


def test_quarantine_file_place_name_and_shape(importer: Importer, tmp_path: Path) -> None:
    path = write_file(tmp_path, "shape.csv", "prompt,response\n,a\nok,fine\n")
    first = importer(path)
    quarantine = Path(first.quarantine_file or "")
    assert quarantine.parent == importer.quarantine
    assert re.fullmatch(r"shape-\d{8}T\d{6}Z(-\d+)?\.jsonl", quarantine.name)
    [entry] = read_quarantine(first)
    assert entry == {
        "file": "shape.csv",
        "row": 1,
        "line": 2,
        "reason": "input is empty",
        "raw": {"prompt": "", "response": "a"},
    }
    # A second import in the same second gets its own file instead of overwriting the first.
    second = importer(path)
    assert second.quarantine_file != first.quarantine_file
    assert quarantine.exists() and Path(second.quarantine_file or "").exists()
    assert [p.name for p in importer.quarantine.iterdir() if p.name.startswith(".")] == []


def test_missing_file_is_a_clear_error(importer: Importer, tmp_path: Path) -> None:
    from curation.errors import NotFoundError

    with pytest.raises(NotFoundError, match="does not exist"):
        importer(tmp_path / "nope.csv")


def test_duplicate_header_names_are_refused(importer: Importer, tmp_path: Path) -> None:
    with pytest.raises(
        BadInputError, match="column 'response' appears twice in the header \\(columns 2 and 3\\)"
    ):
        importer(write_file(tmp_path, "dup.csv", "prompt,response,response\na,b,c\n"))

"""Delimited files are never glued: stray quotes in TSV and CSV, and .txt files sniffed by content."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.curation.import_helpers import Importer, read_quarantine, write_file

# Written like the MRPC corpus: tab-separated, a BOM, and quotes that are text (some lines have an
# odd number of them), never CSV quoting.
STRAY_QUOTES_TSV = (
    "\ufeffQuality\tprompt\tresponse\n"
    '1\tHe called him " the witness , of lying .\tHe said the witness lied .\n'
    "0\tShares rose 3 % on Monday .\tShares fell on Tuesday .\n"
    '1\t" We are pleased , " the CEO said .\tThe CEO said they were pleased .\n'
    '0\tThe vote was 5-4 .\tThe " narrow " vote passed .\n'
    "1\tIt rained all day .\tRain fell for the whole day .\n"
)


@pytest.fixture
def importer(tmp_path: Path) -> Iterator[Importer]:
    imp = Importer(tmp_path / "proj")
    yield imp
    imp.close()


def _data_lines(text: str) -> int:
    return sum(1 for line in text.lstrip("\ufeff").splitlines()[1:] if line.strip())


@pytest.mark.parametrize("name", ["pairs.tsv", "pairs.txt"])
def test_tsv_with_stray_quotes_is_read_line_by_line(importer: Importer, tmp_path: Path, name: str) -> None:
    report = importer(write_file(tmp_path, name, STRAY_QUOTES_TSV))
    assert report.format == "tsv"
    assert report.imported + report.rejected == _data_lines(STRAY_QUOTES_TSV) == 5
    assert report.imported == 5
    records = importer.records()
    assert all("\n" not in r.input and "\t" not in r.input and "\n" not in r.output for r in records)
    inputs = {r.input for r in records}
    assert 'He called him " the witness , of lying .' in inputs  # quotes kept as text
    assert '" We are pleased , " the CEO said .' in inputs
    assert any("1 line(s) have an odd number of '\"': 2)" in w for w in report.warnings)
    if name.endswith(".txt"):
        assert any("read as TSV from its content" in w for w in report.warnings)


def test_tsv_with_real_quoting_keeps_it(importer: Importer, tmp_path: Path) -> None:
    text = 'prompt\tresponse\n"a\tb"\tone\n"two\nlines"\ttwo\n'
    report = importer(write_file(tmp_path, "quoted.tsv", text))
    assert (report.imported, report.rejected) == (2, 0)
    assert {r.input for r in importer.records()} == {"a\tb", "two\nlines"}


def test_csv_stray_quote_quarantines_each_swallowed_line(importer: Importer, tmp_path: Path) -> None:
    text = (
        "prompt,response\n"
        "fine,ok\n"
        '"starts a quote,never closed\n'
        "row three,ok\n"
        'row four has "a quote" inside,ok\n'
        "row five,ok\n"
    )
    report = importer(write_file(tmp_path, "stray.csv", text))
    assert report.imported + report.rejected == _data_lines(text) == 5
    rejected = read_quarantine(report)
    assert [r["line"] for r in rejected] == list(range(3, 3 + len(rejected)))
    assert "opens at line 3" in rejected[0]["reason"] and "stray" in rejected[0]["reason"]
    assert all("\n" not in r.input for r in importer.records())
    assert any("stray" in w for w in report.warnings)


def test_csv_multi_line_quoted_fields_are_not_glue(importer: Importer, tmp_path: Path) -> None:
    text = 'prompt,response\nhi,"Hello,\nhow can I help?"\n"Say ""yes""",yes\n'
    report = importer(write_file(tmp_path, "multi.csv", text))
    assert (report.imported, report.rejected) == (2, 0)
    assert {r.output for r in importer.records()} == {"Hello,\nhow can I help?", "yes"}


def test_ragged_tsv_line_names_the_stray_quote(importer: Importer, tmp_path: Path) -> None:
    text = 'prompt\tresponse\na\tb\nc\td\textra " here\n'
    report = importer(write_file(tmp_path, "ragged.tsv", text))
    reason = read_quarantine(report)[0]["reason"]
    assert reason.startswith("line 3: too many fields: 3, the header has 2")

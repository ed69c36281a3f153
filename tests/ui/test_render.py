"""The app's drawing helpers: colours that stay apart, and diffs that show record text literally."""

from __future__ import annotations

import colorsys
from itertools import pairwise

from curation.review.diff import output_diff
from ui import render


def _hls(colour: str) -> tuple[float, float, float]:
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)


def test_thirty_clusters_get_thirty_colours_and_neighbours_differ():
    colours = render.distinct_colours(30)
    assert len(set(colours)) == 30
    for a, b in pairwise(colours):
        (ha, la, _), (hb, lb, _) = _hls(a), _hls(b)
        hue_gap = min(abs(ha - hb), 1 - abs(ha - hb))
        assert hue_gap > 0.2 or abs(la - lb) > 0.1, (a, b)


def test_a_diff_escapes_record_text():
    html = render._diff_html(output_diff("<b>old</b>", "<script>new</script>"), "x")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<del>" in html and "<ins>" in html

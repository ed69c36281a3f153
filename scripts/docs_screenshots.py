"""Copy the browser test's layout screenshots into docs/img/, as small palette PNGs.

Run the browser test first (`.venv/bin/pytest tests/e2e/test_browser_layout.py`), then:

    .venv/bin/python scripts/docs_screenshots.py

Each picture is reduced to 256 colours (UI screenshots have few) so it stays well under 150 KB;
docs/ui.md shows them. Pillow comes with Streamlit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "test-artifacts" / "e2e" / "layout"
TARGET = ROOT / "docs" / "img"
LIMIT = 150_000
SHOTS = {
    "review": "ui-review.png",
    "review-correction": "ui-review-correction.png",
    "1280-review": "ui-review-1280.png",
    "duplicates": "ui-duplicates.png",
    "clusters": "ui-clusters.png",
    "clusters-selection": "ui-clusters-selection.png",
    "export": "ui-export.png",
    "export-confirm": "ui-export-confirm.png",
    "1400-project-import": "ui-project.png",
}


def shrink(source: Path, target: Path) -> int:
    """Save ``source`` as a 256-colour PNG at ``target``; returns its size in bytes."""
    with Image.open(source) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        palette.save(target, optimize=True)
    return target.stat().st_size


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    missing = [name for name in SHOTS if not (SOURCE / f"{name}.png").exists()]
    if missing:
        print(
            f"missing in {SOURCE}: {', '.join(missing)}; run tests/e2e/test_browser_layout.py first",
            file=sys.stderr,
        )
        return 1
    too_big = []
    for name, file in SHOTS.items():
        size = shrink(SOURCE / f"{name}.png", TARGET / file)
        print(f"{file}: {size / 1000:.0f} KB")
        if size > LIMIT:
            too_big.append(file)
    if too_big:
        print(f"over {LIMIT // 1000} KB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``python -m benchmarks.public_sets list | fetch NAME... | fetch --all | sample NAME... | sample --all``."""

from __future__ import annotations

import sys

from benchmarks.public_sets import cached_dir, catalogue, fetch, write_sample


def main(argv: list[str]) -> int:
    sets = catalogue()
    if not argv or argv[0] == "list":
        print(f"{'name':28} {'fetched':8} {'shape':22} {'licence':18} source")
        for name, public_set in sets.items():
            fetched = "yes" if cached_dir(name) else "no"
            print(
                f"{name:28} {fetched:8} {public_set.shape:22} {public_set.licence:18} github.com/{public_set.repo}"
            )
        return 0
    if argv[0] in ("fetch", "sample"):
        every = [n for n, s in sets.items() if s.redistributable] if argv[0] == "sample" else list(sets)
        names = every if argv[1:] == ["--all"] else argv[1:]
        unknown = [n for n in names if n not in sets]
        if unknown:
            print(f"unknown set(s): {', '.join(unknown)}; `list` shows them", file=sys.stderr)
            return 2
        for name in names:
            print(f"{name}: {fetch(name) if argv[0] == 'fetch' else write_sample(name)}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

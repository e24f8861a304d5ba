"""The 10 000-partner close of (d) at an earlier commit and in this tree, one after the other on
the same machine with the same virtualenv: `python bench/close_compare.py ecc8cf5` prints both
and their ratio (issue 11: with points and leaderboards within 1.3 x the close before them).

The earlier commit is checked out into a temporary git worktree; each close runs in a fresh
process whose import path puts that tree's `layers/common` and `local` first."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ONE = """
import json, sys
root = sys.argv[1]
sys.path[:0] = [root + "/layers/common", root + "/local", root]
from bench.run import bench_close
r = bench_close(10_000, 1_500)
print(json.dumps({k: v for k, v in r.items() if k != "aws_calls"}))
"""


def close_at(tree: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", ONE, str(tree)], capture_output=True, text=True, check=True, cwd=tree
    )
    out = json.loads(done.stdout.splitlines()[-1])
    assert isinstance(out, dict)
    return out


def main(rev: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), rev], check=True
        )
        try:
            before = close_at(old)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=True)
    after = close_at(ROOT)
    return {
        "before": before,
        "after": after,
        "ratio_after_to_before": round(after["wall_seconds_close"] / before["wall_seconds_close"], 3),
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1] if len(sys.argv) > 1 else "ecc8cf5"), indent=1))

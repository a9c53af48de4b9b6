"""Reading article files: bad lines are reported with their numbers, good ones kept."""

from __future__ import annotations

from pathlib import Path

from stream.models import Article
from stream.produce import BadLine, read_articles

REPO = Path(__file__).resolve().parents[2]


def test_bad_lines_are_numbered(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a", "title": "t", "body": "b"}\n'
        "\n"
        "{oops\n"
        '{"id": "b", "title": "t"}\n'
    )
    items = list(read_articles(path))
    assert [n for n, _ in items] == [1, 3, 4]
    assert isinstance(items[0][1], Article)
    assert isinstance(items[1][1], BadLine) and "invalid JSON" in items[1][1].reason
    assert isinstance(items[2][1], BadLine) and "body: Field required" in items[2][1].reason


def test_bundled_samples_are_valid() -> None:
    items = list(read_articles(REPO / "examples" / "articles.jsonl"))
    assert items and all(isinstance(item, Article) for _, item in items)

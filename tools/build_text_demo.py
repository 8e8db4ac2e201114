"""Build the bundled text demo: chatbot utterances by topic, from the PyPI package
`chatterbot-corpus` 1.3.3 (BSD licence).

    pip download chatterbot-corpus==1.3.3 --no-deps -d /tmp/cb && unzip -q /tmp/cb/*.whl -d /tmp/cb/w
    python3 tools/build_text_demo.py /tmp/cb/w/chatterbot_corpus/data/english   # needs PyYAML

Writes assets/demo/topics/demo.json (title, classes, item ids, texts: what the UI sees) and
assets/demo/topics/truth.csv (item,label: for tests and simulations only, never served).
Every distinct utterance (question or answer) of the chosen topics is one item; an utterance that
appears under two topics is dropped. Items are shuffled with a fixed seed.
"""
import json
import random
import sys
from pathlib import Path

import yaml

TOPICS = ["coding", "emotion", "literature", "money", "movies", "science", "sports"]
ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets/demo/topics"


def main(src: str):
    seen = {}
    for topic in TOPICS:
        data = yaml.safe_load((Path(src) / f"{topic}.yml").read_text())
        for conversation in data["conversations"]:
            for line in conversation:
                if isinstance(line, str) and line.strip():
                    seen.setdefault(" ".join(line.split()), set()).add(topic)
    rows = sorted((t, next(iter(ts))) for t, ts in seen.items() if len(ts) == 1)
    random.Random(20261127).shuffle(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    ids = [f"t{i:04d}" for i in range(len(rows))]
    (OUT / "demo.json").write_text(json.dumps({
        "title": f"{len(rows)} chatbot utterances on {len(TOPICS)} topics (chatterbot-corpus)",
        "classes": TOPICS,
        "items": ids,
        "texts": [t for t, _ in rows],
    }, ensure_ascii=False) + "\n")
    with open(OUT / "truth.csv", "w") as f:
        f.write("item,label\n")
        for i, (_, label) in zip(ids, rows):
            f.write(f"{i},{label}\n")
    print(f"{len(rows)} items written to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])

"""BENCHMARKS.md stays readable: no pasted progress bars or carriage returns, and a summary table at the top whose
links all land on a heading. Each check is first shown to catch a small bad example, then run on the real file."""
import re
import unicodedata
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"
SUMMARY_HEADING = "## Summary"
SUMMARY_COLUMNS = ["chapter", "quantity", "book", "ours", "same data?", "status"]
BLOCKS = "█▉▊▋▌▍▎▏"
PROGRESS = [  # (what, pattern)
    ("fastprogress bar", re.compile(r"\|[-\s" + BLOCKS + r"]*\|\s*\d+(\.\d+)?%\s*\[\d+/\d+")),
    ("tqdm bar", re.compile(r"\d+%\|[^|]*\|\s*\d+/\d+")),
    ("elapsed<remaining timer", re.compile(r"\d+:\d\d<(\d+:\d\d|\?)")),
    ("rate in it/s or s/it", re.compile(r"(it/s|s/it)\]")),
    ("block character", re.compile("[" + BLOCKS + "]")),
]
MAX_SIMILAR_RUN = 3


def line_problems(text: str) -> list[str]:
    "Carriage returns, progress-bar lines and runs of near-identical lines in `text`, one message each."
    problems = [f"line {i}: carriage return" for i, line in enumerate(text.split("\n"), 1) if "\r" in line]
    lines = text.replace("\r", "\n").split("\n")
    for i, line in enumerate(lines, 1):
        problems += [f"line {i}: {what}: {line[:60]!r}" for what, pattern in PROGRESS if pattern.search(line)]
    # more than MAX_SIMILAR_RUN consecutive lines that are equal once digits are removed (a log, not a table of
    # numbers: the line must keep a letter, so a numeric table row like `| 1 | 0.14 |` is not counted)
    run_start, prev = 0, None
    for i, line in enumerate(lines + [None], 1):
        key = None if line is None else re.sub(r"\d+", "", line).strip()
        if key is None or key != prev or not re.search(r"[^\W\d_]", key):
            if prev is not None and re.search(r"[^\W\d_]", prev) and i - run_start > MAX_SIMILAR_RUN:
                problems.append(f"lines {run_start}-{i - 1}: {i - run_start} near-identical lines: {prev[:60]!r}")
            run_start, prev = i, key
    return problems


def slug(heading: str) -> str:
    "GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."
    text = re.sub(r"[*_`]", "", heading.strip().lower())
    return "".join(c for c in text if c in "- " or unicodedata.category(c)[0] in "LN" or c == "_").replace(" ", "-")


def anchors(text: str) -> set[str]:
    "Every heading's anchor, with GitHub's -1, -2 suffixes for repeats."
    seen, out = {}, set()
    for line in text.split("\n"):
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m:
            s = slug(m.group(1))
            out.add(s if s not in seen else f"{s}-{seen[s]}")
            seen[s] = seen.get(s, 0) + 1
    return out


def summary_problems(text: str) -> list[str]:
    "The first `##` section must be the summary, holding a table with the summary's columns whose every row links to a heading."
    sections = re.split(r"(?m)^(?=## )", text)
    if len(sections) < 2 or not sections[1].startswith(SUMMARY_HEADING):
        return [f"the first section is not {SUMMARY_HEADING!r}"]
    rows = [l for l in sections[1].split("\n") if l.startswith("|")]
    if len(rows) < 3:
        return ["the summary has no table"]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    problems = [] if header == SUMMARY_COLUMNS else [f"summary columns are {header}, expected {SUMMARY_COLUMNS}"]
    targets = anchors(text)
    for row in rows[2:]:
        links = re.findall(r"\]\(#([^)]+)\)", row)
        if not links:
            problems.append(f"summary row without a link to its section: {row[:60]!r}")
        problems += [f"summary link #{a} matches no heading" for a in links if a not in targets]
    return problems


def test_carriage_return_is_caught():
    assert line_problems("a line\r\n") == ["line 1: carriage return"]
    assert line_problems("epoch 1\rEpoch 2") != []


def test_fastprogress_bar_is_caught():
    bad = "Epoch 3/4 : |----------------------------------------| 0.26% [1/391 00:00<01:02]"
    assert any("fastprogress bar" in p for p in line_problems(bad))
    assert any("fastprogress bar" in p for p in line_problems("|████------| 12.34% [40/391 00:09<01:20]"))
    assert any("timer" in p for p in line_problems("Epoch 1/4 : 0.00% [0/391 00:00<?]"))


def test_tqdm_bar_is_caught():
    problems = line_problems("45%|████▌     | 45/100 [00:01<00:02, 30.1it/s]")
    for what in ("tqdm bar", "elapsed<remaining timer", "rate in it/s", "block character"):
        assert any(what in p for p in problems), (what, problems)


def test_block_characters_and_rates_are_caught():
    assert line_problems("█") == ["line 1: block character: '█'"]
    assert any("block character" in p for p in line_problems("progress ▍"))
    assert any("it/s" in p for p in line_problems("100/100 [00:10, 9.87it/s]"))
    assert any("it/s" in p for p in line_problems("3/10 [00:30, 10.1s/it]"))


def test_runs_of_near_identical_lines_are_caught():
    log = "\n".join(f"step {i}: loss 0.{i}{i}" for i in range(1, 6))   # five lines equal once digits are removed
    assert line_problems(log) == ["lines 1-5: 5 near-identical lines: 'step : loss .'"]
    assert line_problems("\n".join(log.split("\n")[:3])) == []       # three are allowed
    numeric_table = "\n".join(f"| {i} | 0.{i}4 | 0.2{i} |" for i in range(6))
    assert line_problems(numeric_table) == []                           # a table of numbers is not a log


def test_slugs_follow_github():
    assert slug("Chapter 8 — BERTology demonstrations") == "chapter-8--bertology-demonstrations"
    assert slug("Chapter 1: results next to the book's") == "chapter-1-results-next-to-the-books"
    assert slug("BPE training: ours vs Hugging Face `tokenizers` (2026-11-25)") == "bpe-training-ours-vs-hugging-face-tokenizers-2026-11-25"
    assert anchors("## A\n## A\n") == {"a", "a-1"}


def test_summary_checks_are_caught():
    table = "| chapter | quantity | book | ours | same data? | status |\n|---|---|---|---|---|---|\n"
    good = f"# B\n\nintro\n\n{SUMMARY_HEADING}: x\n\n{table}| [1](#chapter-1) | q | 1 | 1 | yes | met |\n\n## Chapter 1\n"
    assert summary_problems(good) == []
    assert summary_problems(good.replace("## Summary: x", "## Other")) == ["the first section is not '## Summary'"]
    assert summary_problems(f"# B\n\n{SUMMARY_HEADING}\n\nno table\n\n## Chapter 1\n") == ["the summary has no table"]
    assert summary_problems(good.replace("(#chapter-1)", "(#chapter-2)")) == ["summary link #chapter-2 matches no heading"]
    assert summary_problems(good.replace("[1](#chapter-1)", "1")) == ["summary row without a link to its section: '| 1 | q | 1 | 1 | yes | met |'"]
    assert summary_problems(good.replace("same data?", "data")) != []


def test_benchmarks_md_is_clean():
    text = BENCHMARKS.read_bytes().decode("utf-8")   # bytes: no newline translation hides a \r
    assert line_problems(text) == []
    assert summary_problems(text) == []

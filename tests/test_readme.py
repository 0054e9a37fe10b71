"""The README's promises stay true: its Python example runs, its quick start names real targets."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    assert blocks, "README has no python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


def test_quick_start_is_two_make_commands_that_exist():
    quick = README.split("## Quick start", 1)[1].split("##", 1)[0]
    commands = re.findall(r"^make (\w+)", re.search(r"```bash\n(.*?)```", quick, flags=re.S).group(1), flags=re.M)
    assert commands == ["report", "test"]
    makefile = (ROOT / "Makefile").read_text()
    for target in commands:
        assert re.search(rf"^{target}:", makefile, flags=re.M), f"Makefile has no '{target}' target"
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_readme_images_exist():
    for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README):
        assert (ROOT / path).is_file(), path

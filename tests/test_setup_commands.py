"""The README's two set-up commands and CI stay in step."""

from __future__ import annotations

import re

from conftest import REPO_ROOT

README = (REPO_ROOT / "README.md").read_text()
CI_SCRIPT = (REPO_ROOT / ".ci" / "run").read_text()


def _bash_blocks(text: str) -> list[str]:
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)]


def test_readme_gives_two_setup_commands():
    blocks = _bash_blocks(README.split("## Set-up", 1)[1].split("\n## ", 1)[0])
    assert len(blocks) == 2
    install_and_run, install_and_test = blocks
    assert "sklearn-lnp" in install_and_run and "pip install" in install_and_run
    assert "[test]" in install_and_test and "pytest" in install_and_test


def test_ci_runs_the_readme_test_command():
    test_command = _bash_blocks(README.split("## Set-up", 1)[1])[1]
    match = re.search(r"^TEST_COMMAND='(.*)'$", CI_SCRIPT, flags=re.M)
    assert match is not None, ".ci/run must define TEST_COMMAND"
    assert match.group(1) == test_command
    assert 'eval "$TEST_COMMAND"' in CI_SCRIPT


def test_console_script_is_declared():
    pyproject = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'sklearn-lnp = "sklearn_lnp.cli:main"' in pyproject

"""The lab notebook runs top to bottom, as a reader would run it from ``notebooks/``.

``notebooks/lnp_receptive_fields.ipynb`` is executed in a fresh Jupyter kernel
(nbclient) with the working directory in ``notebooks/``.  With the real
recording, every code cell must produce output and none an error, the figures
and the closing table must be there, and the whole run must fit the CI budget of
issue 7 (3 minutes on 2 cores).  Without it, sections 1-2 (simulated) must still
run and the notebook must stop at the data cell with a message saying where the
recording was looked for and what to do.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
pytest.importorskip("ipykernel", reason="ipykernel (the notebook's kernel) is in the test extra")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "lnp_receptive_fields.ipynb"
BUDGET_SECONDS = 180  # issue 7: the notebook stays under 3 minutes on 2 cores
# The sections of the issue, in order, as the notebook's level-2 headings.
SECTIONS = [
    "## 1. The LNP model and its likelihood",
    "## 2. A simulated neuron",
    "## 3. The real neuron",
    "## 4. Space-time separation",
    "## 5. L1 regularisation",
    "## 6. The spike-triggered average",
    "## 6b. Smoothness chosen by evidence",
    "## 7. Every method on this neuron",
    "## 8. Spike history: the Poisson GLM",
]


def read_notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def execute(notebook, *, allow_errors: bool = False) -> float:
    client = nbclient.NotebookClient(
        notebook,
        timeout=BUDGET_SECONDS,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def errors(cell):
    return [out for out in cell.outputs if out.output_type == "error"]


def text_of(cell) -> str:
    """Printed text and displayed Markdown (else plain text) of a cell, one output a line."""
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif "data" in out:
            parts.append(str(out.data.get("text/markdown", out.data.get("text/plain", ""))))
    return "\n".join(parts)


def n_images(cell) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.outputs)


def data_cell_index(notebook) -> int:
    cells = code_cells(notebook)
    return next(i for i, cell in enumerate(cells) if "def find_recording" in cell.source)


def test_notebook_has_the_seven_sections_in_order_and_uses_only_the_public_api():
    notebook = read_notebook()
    headings = [
        line
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    assert headings == SECTIONS
    source = "\n".join(cell.source for cell in code_cells(notebook))
    # Public API only: no private module or name (sklearn_lnp._loss, ._solvers, ...).
    private = [
        name
        for name in re.findall(r"sklearn_lnp[\w.]*", source)
        if any(part.startswith("_") and not part.startswith("__") for part in name.split("."))
    ]
    assert not private, f"the notebook uses private parts of the package: {private}"
    # The derivation is in LaTeX and ends in the gradient that section 1 checks.
    derivation = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert r"\nabla_w F" in derivation and r"\log L(w, b)" in derivation


@pytest.mark.usefixtures("real_data_path")
@pytest.mark.slow  # executes the notebook on the recording (~25 s)
def test_notebook_runs_top_to_bottom_on_the_real_recording(monkeypatch):
    monkeypatch.delenv("SKLEARN_LNP_DATA", raising=False)  # the notebook finds the data itself
    notebook = read_notebook()
    seconds = execute(notebook)  # raises CellExecutionError on the first failing cell
    cells = code_cells(notebook)
    for index, cell in enumerate(cells):
        assert not errors(cell), f"code cell {index} failed"
        assert cell.outputs, f"code cell {index} produced no output:\n{cell.source[:200]}"
    # Figures: sections 2 to 6 each draw at least one.
    section = None
    drawn = {}
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            section = next((h for h in SECTIONS if h in cell.source), section)
        elif section is not None:
            drawn[section] = drawn.get(section, 0) + n_images(cell)
    for heading in SECTIONS[1:6]:
        assert drawn.get(heading, 0) >= 1, f"no figure in {heading!r}"
    # Section 1: the derived objective and gradient agree with the package.
    check = text_of(cells[1])
    assert "F by hand" in check and "model.objective_" in check
    # Section 8 draws the history gain and prints the paired held-out comparison.
    assert drawn.get("## 8. Spike history: the Poisson GLM", 0) >= 1, "no figure in section 8"
    glm_text = "\n".join(text_of(cell) for cell in cells if "fit_history_glm(" in cell.source)
    assert "| history | +" in glm_text and "paired s.e." in glm_text
    # The closing table lists every method with its held-out gain ± s.e., the paired
    # difference to the reference ± s.e., whether it is resolved, and a fit time.
    table = text_of(next(cell for cell in cells if "compare_held_out(" in cell.source))
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert rows[0].startswith("| method | gain (bits/spike) ± s.e. | difference to the ref")
    assert "Rule: a difference to the reference is resolved when" in table
    assert "best" not in table  # no method is named best on unresolved differences
    methods = [row.split(" | ")[0].lstrip("| ") for row in rows[1:]]
    for expected in ("lag 0 alone, alpha = 0", "lags 0-4 jointly, L2", "rank 1 by SVD",
                     "bilinear", "L1 GLM, lag 0", "L1 GLM, lags 0-4", "STA, lag 0",
                     "constant rate"):  # fmt: skip
        assert any(expected in method for method in methods), f"{expected!r} not in {methods}"
    assert all(row.count("|") == 6 for row in rows)
    assert sum("| reference |" in row for row in rows) == 1
    assert seconds < BUDGET_SECONDS, (
        f"the notebook took {seconds:.0f} s, over the {BUDGET_SECONDS} s budget of issue 7"
    )


@pytest.mark.slow  # executes the notebook up to its data cell
def test_notebook_without_the_recording_runs_the_simulations_and_says_what_is_missing(
    monkeypatch, tmp_path
):
    missing = tmp_path / "nowhere" / "nds_cl_5_data.mat"
    monkeypatch.setenv("SKLEARN_LNP_DATA", str(missing))
    notebook = read_notebook()
    stop = data_cell_index(notebook)
    # Execute up to and including the data cell (the rest needs the recording).
    notebook.cells = notebook.cells[: notebook.cells.index(code_cells(notebook)[stop]) + 1]
    execute(notebook, allow_errors=True)
    cells = code_cells(notebook)
    for index, cell in enumerate(cells[:stop]):
        assert not errors(cell), f"simulated code cell {index} failed without the recording"
        assert cell.outputs, f"code cell {index} produced no output"
    assert sum(n_images(cell) for cell in cells[:stop]) >= 3
    (error,) = errors(cells[stop])
    assert error.ename == "FileNotFoundError"
    assert str(missing) in error.evalue
    assert "Sections 1-2 (simulated) have run" in error.evalue
    assert "SKLEARN_LNP_DATA" in error.evalue

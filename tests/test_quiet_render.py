"""A clean render prints no warnings (issue 14, item 4): neither the
pre-render step, nor any of the six document executions (report and
supplement, each in HTML, Typst and Word: every chunk, every inline
expression, and the kernel process itself), nor the post-render step, on the
shipped cohort.

What each step shows is taken from where a render shows it: the steps'
stderr (Quarto passes it to the console), the chunks' stderr streams and
Python warnings (Quarto puts them into the document, or drops them for
``warning: false``: they are checked here too, so a library warning cannot
hide behind that option), and the kernel's own log (the console). The one
message a render prints on purpose is the pre-render step's list of
placeholders the authors must still fill in (README "Rendering").

The documents' executions are the session's ``runs`` (tests/conftest.py),
shared with tests/test_documents.py."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from analysis.config import PROJECT_ROOT
from analysis.present.submission import placeholder_report

DOCUMENTS = ("report.qmd", "supplement.qmd")
FORMATS = ("html", "typst", "docx")


def _without_placeholder_list(stderr: str) -> str:
    report = placeholder_report(PROJECT_ROOT)
    return stderr.replace(report + "\n", "", 1) if report else stderr


def test_pre_render_step_is_quiet(pre_render):
    assert _without_placeholder_list(pre_render.stderr) == ""
    assert "warning" not in pre_render.stdout.lower()


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("doc", DOCUMENTS)
def test_document_execution_is_quiet(runs, doc, fmt):
    run = runs(doc, fmt)
    noisy = [f"{c.label or c.chunk.location}: {w.category}: {w.message} ({w.filename}:{w.lineno})"
             for c in run.chunks for w in c.warnings]
    noisy += [f"{c.label or c.chunk.location}: stderr: {c.stderr.strip()}" for c in run.chunks if c.stderr.strip()]
    noisy += [f"{i.location}: `{i.expression}`: {w.category}: {w.message}" for i in run.inlines for w in i.warnings]
    assert not noisy, "\n".join(noisy)
    assert run.kernel_log.strip() == "", f"the kernel printed (Quarto shows it on the console):\n{run.kernel_log}"


def test_post_render_step_is_quiet(pre_render, tmp_path):
    """As Quarto runs it (tools/post_render.py), on a clean figure cache so that
    the figures are drawn, not reused."""
    env = {**os.environ, "QUARTO_PROJECT_OUTPUT_DIR": str(tmp_path / "_output"),
           "CART_FIGURE_CACHE": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "tools/post_render.py"], cwd=PROJECT_ROOT, env=env,
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "warning" not in out.stdout.lower()
    assert (tmp_path / "_output" / "figures").is_dir()


def test_project_kernel_drops_only_the_tcp_advisory():
    """The kernelspec's launcher filters exactly ipykernel's transport
    advisory (tools/register_kernel.py): other records of the kernel's log
    still print."""
    from tests.conftest import project_kernel_argv

    code = project_kernel_argv()[project_kernel_argv().index("-c") + 1]
    probe = code.replace("from ipykernel.kernelapp import launch_new_instance\nlaunch_new_instance()\n", "") + (
        "log = logging.getLogger('IPKernelApp')\n"
        "log.addHandler(logging.StreamHandler(sys.stdout))\n"
        "log.warning('Kernel is running over TCP without encryption. All communication ...')\n"
        "log.warning('Unknown message type: %r', 'x')\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "Unknown message type: 'x'\n"

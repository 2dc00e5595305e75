"""The render-cost benchmark (analysis/bench_render.py): what it copies, what
it cleans, and how it states its ratios. No timing is asserted (targets are
printed by the benchmark, never tested)."""

from __future__ import annotations

from pathlib import Path

from analysis.bench_render import Round, clean, copy_project, format_report, main


def test_copy_leaves_out_outputs_caches_environment_and_private_data(tmp_path):
    root = tmp_path / "src"
    for rel in ("report.qmd", "analysis/x.py", "data/synthetic/a.csv", "data/private/real.csv",
                "_output/report.html", ".cache/figures/k/a.pdf", "_generated/results.pkl",
                ".venv/bin/python", "_variables.yml", ".git/HEAD"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    copy = copy_project(tmp_path / "bench", root)
    got = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts)     # the copy's package is compiled once
    assert got == ["analysis/x.py", "data/synthetic/a.csv", "report.qmd"]


def test_clean_removes_what_a_render_writes(tmp_path):
    for rel in ("_generated/a", ".generated/run-1/b", ".cache/c", "_output/d", "_variables.yml", "report.qmd"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    clean(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["report.qmd"]


def test_report_states_project_added_time_against_both_skeletons():
    docs = {f"{d}/{f}": 1.0 for d in ("report.qmd", "supplement.qmd") for f in ("html", "typst", "docx")}
    figures = {"skeleton": Round(documents={k: 0.5 for k in docs}),             # 3 s
               "clean": Round(pre=2.0, documents=docs, post=1.0),               # 9 s: adds 6 s
               "unchanged": Round(pre=0.1, documents={k: 0.5 for k in docs}, post=0.2),    # 3.3 s: adds 0.3 s
               "profile": {}}
    text = "\n".join(format_report(figures))
    assert "clean tree: project-added 6.00 s = 2.00 x harness skeleton (MISSED <= 0.5)" in text
    assert "0.55 x the issue's Quarto skeleton of 11 s (MISSED)" in text
    assert "nothing changed: project-added 0.30 s = 0.10 x harness skeleton (met <= 0.2)" in text
    figures["prose"] = Round(pre=0.1, documents={k: 0.5 for k in docs}, post=0.5)           # 3.6 s: adds 0.6 s
    text = "\n".join(format_report(figures))
    assert "prose edited: project-added 0.60 s = 0.20 x harness skeleton; 0.05 x the issue's" in text
    assert "(no target; the re-render after each edit of the text)" in text
    assert "nothing changed: project-added 0.30 s = 0.10 x harness skeleton (met <= 0.2)" in text


def test_a_prose_edit_appends_a_sentence_to_a_section(tmp_path):
    from analysis.bench_render import edit_prose

    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "discussion.qmd").write_text("## Discussion\n\nText.\n")
    (tmp_path / "report.qmd").write_text("report\n")
    assert edit_prose(tmp_path) == tmp_path / "sections" / "discussion.qmd"
    assert (tmp_path / "sections" / "discussion.qmd").read_text().endswith("A sentence an author added (1).\n")
    assert (tmp_path / "report.qmd").read_text() == "report\n"


def test_bad_repeat_is_a_usage_error(capsys):
    assert main(["--repeat", "0"]) == 2
    assert "--repeat" in capsys.readouterr().err


def test_bench_command_hands_render_to_the_render_benchmark(monkeypatch):
    from analysis import bench_render
    from analysis.bench import main as bench_main

    seen = []
    monkeypatch.setattr(bench_render, "main", lambda argv: seen.append(argv) or 0)
    assert bench_main(["--render", "--repeat", "2"]) == 0
    assert seen == [["--repeat", "2"]]
    assert Path(bench_render.__file__).name == "bench_render.py"


def test_profile_shows_both_rounds_with_what_each_execution_displayed():
    docs = {"report.qmd/html": 1.0}
    shown = {"report.qmd/html": {"kept": 5, "waited": 6, "wait_seconds": 1.5, "drawn": 0}}
    figures = {"skeleton": Round(documents={"report.qmd/html": 0.5}),
               "clean": Round(pre=2.0, documents=docs, post=1.0, served=shown,
                              worker=["displays drawn ahead: 11 of 11"]),
               "unchanged": Round(pre=0.1, documents=docs, post=0.2),
               "profile": {"report.qmd/html": {"kernel": 1.0}},
               "profile_clean": {"report.qmd/html": {"kernel": 1.2, "chunks": 0.2}}}
    text = "\n".join(format_report(figures))
    assert "Clean-tree document executions" in text and "Nothing-changed document executions" in text
    assert "kernel 1.20  chunks 0.20   displays 5/6 (1.50 s)/0" in text
    assert "  background worker:\n    displays drawn ahead: 11 of 11" in text


def test_the_worker_summary_keeps_each_execution_and_how_the_worker_ended():
    """Regression: the log of a worker as background_export writes it (one line per execution,
    one for drawing ahead, the last for how it ended); lines in between are left out."""
    from analysis.bench_render import _worker_summary

    log = "\n".join(["99 displays announced by +0.42 s (0.43 s CPU)", "drawing ahead from +0.51 s",
                     "a helper drew 3 displays ahead by +2.88 s (1.02 s CPU)"]
                    + [f"{d}.qmd/{f}: drawn ahead by +{i}.0 s ({i}.0 s CPU)"
                       for i, (d, f) in enumerate([(d, f) for d in ("report", "supplement")
                                                   for f in ("html", "typst", "docx")], 1)]
                    + ["displays drawn ahead: 99 of 99 for 6 executions in 8.2 s (7.1 s CPU here)",
                       "committed in 12.7 s (16.4 s CPU)", "post-render step: done after waiting 2.10 s"])
    summary = _worker_summary(log)
    assert len(summary) == 9
    assert summary[0].startswith("report.qmd/html: drawn ahead") and summary[-2].startswith("committed in")
    assert summary[-1] == "post-render step: done after waiting 2.10 s"
    assert _worker_summary("Traceback (most recent call last):\nValueError: x") == [
        "Traceback (most recent call last):", "ValueError: x"]


def test_worker_option_runs_the_worker_alone(monkeypatch, capsys):
    from analysis import bench_render

    seen = []
    monkeypatch.setattr(bench_render, "worker_alone", lambda repeat: seen.append(repeat) or ["worker figures"])
    monkeypatch.setattr(bench_render, "run_benchmark", lambda *a: (_ for _ in ()).throw(AssertionError("ran")))
    assert main(["--worker", "--repeat", "3"]) == 0
    assert seen == [3] and "worker figures" in capsys.readouterr().out

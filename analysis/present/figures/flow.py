"""Figure 1: the patient flow (CONSORT-style)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import pandas as pd
from matplotlib.patches import FancyBboxPatch

from .. import style
from .theme import COLORS, LAYOUT_WIDTH, double_column, figure_rc
from .canvas import JournalFigure, _finish, _new_figure, text_width

if TYPE_CHECKING:  # pragma: no cover
    from ...results import Results


# --------------------------------------------------------------------------- 1. flow


def _flow_structure(flow) -> dict[str, Any]:
    steps = flow.steps
    roots = steps[steps["parent"].isna()]
    if len(roots) != 1:
        raise ValueError("the patient flow must have exactly one top step")
    root = roots.iloc[0]

    def children(step: str, kind: str | None = None) -> pd.DataFrame:
        c = steps[steps["parent"] == step]
        return c if kind is None else c[c["kind"] == kind]

    excl = children(root["step"], "exclusion")
    main = children(root["step"], "population")
    if len(main) != 1 or len(excl) > 1:
        raise ValueError("the patient flow must split the top step into one population and its exclusions")
    main = main.iloc[0]
    classes = children(main["step"], "subgroup")
    summary = children(main["step"], "population")
    if len(summary) > 1:
        raise ValueError("the patient flow has more than one summary step after the classes")
    per_class = []
    for _, c in classes.iterrows():
        kids = children(c["step"])
        if len(kids) > 1:
            raise ValueError(f"step '{c['step']}' has more than one outcome step")
        per_class.append(kids.iloc[0] if len(kids) else None)
    summary = summary.iloc[0] if len(summary) else None
    final = children(summary["step"]) if summary is not None else steps.iloc[0:0]
    return dict(root=root, exclusion=excl.iloc[0] if len(excl) else None, main=main,
                classes=[r for _, r in classes.iterrows()], per_class=per_class,
                summary=summary, final=[r for _, r in final.iterrows()],
                notes=[r for _, r in children(main["step"], "note").iterrows()])


def _short_outcome(label: str) -> str:
    """'CR/CRi after chemotherapy' -> 'CR/CRi' (the class is in the box above)."""
    return label.split(" after ")[0]


def flow_figure(results: Results) -> JournalFigure:
    """Patient flow (CONSORT-style): relapsed -> no salvage (with each reason)
    -> received salvage -> regimen classes -> CR/CRi per class -> CR/CRi overall
    -> consolidative allo-HSCT. Every count and label comes from
    ``results.derived.flow`` (steps and exclusions); percentages are of the
    parent step (``style.fmt_n_pct``)."""
    flow = results.derived.flow
    s = _flow_structure(flow)
    n_classes = len(s["classes"])
    W = double_column()
    line = 0.145  # inches per 8 pt text line
    box_h = 2 * line + 0.16
    reasons = flow.exclusions
    excl_lines = 1 + len(reasons)
    excl_h = excl_lines * line + 0.18
    gap = 0.32
    # rows from the top (y = top edge of each box row)
    y_root_top = 0.12
    y_main_top = y_root_top + box_h + max(gap * 2, excl_h + 0.3)
    y_class_top = y_main_top + box_h + 0.48
    y_pc_top = y_class_top + box_h + gap
    y_sum_top = y_pc_top + box_h + 0.48
    y_final_top = y_sum_top + box_h + gap
    bottom_pad = 0.3 if results.synthetic else 0.12
    H = (y_final_top + box_h if s["final"] else y_sum_top + box_h) + bottom_pad
    # counts beside the flow (transplanted without CR/CRi): boxes right of the last row
    note_left = W / 2 + 2.7 / 2 + 0.25
    note_w = W - 0.12 - note_left
    note_lines = [[*textwrap.wrap(str(nt["label"]), width=max(12, int(note_w / 0.075))), f"n = {int(nt['n'])}"]
                  for nt in s["notes"]]
    note_top = y_final_top if s["final"] else y_sum_top
    note_hs = [len(ls) * line + 0.18 for ls in note_lines]
    H = max(H, note_top + sum(h + 0.1 for h in note_hs) + bottom_pad)

    with mpl.rc_context(figure_rc()):
        fig = _new_figure(W, H)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_gid("flow")
        ax.set_xlim(0, W)
        ax.set_ylim(H, 0)  # y in inches from the top
        ax.axis("off")

        def box(step_row, x_center, y_top, width, lines, *, height=box_h, align="center", bold_first=True):
            x0 = x_center - width / 2
            patch = FancyBboxPatch((x0, y_top), width, height, boxstyle="round,pad=0,rounding_size=0.04",
                                   fc="white", ec=COLORS["black"], lw=0.6, gid=f"box-{step_row['step']}")
            ax.add_patch(patch)
            tx = x_center if align == "center" else x0 + 0.1
            first, rest = lines[0], lines[1:]
            y = y_top + 0.09 + line / 2
            weight = "bold" if bold_first else "normal"
            texts = [ax.text(tx, y, first, ha=align, va="center", fontweight=weight, fontsize=fit(first, width, weight),
                             gid=f"text-{step_row['step']}")]
            for k, t in enumerate(rest, start=1):
                texts.append(ax.text(tx, y + k * line, t, ha=align, va="center", fontsize=fit(t, width),
                                     gid=f"text-{step_row['step']}-{k}"))
            return patch, texts

        def fit(text, width, weight="normal"):
            """The journal's font size, smaller where a line would not fit its box."""
            size = style.journal().figure.font_size
            need = text_width(text, size, weight)
            return size if need <= width - 0.16 else size * (width - 0.16) / need

        def arrow(x0, y0, x1, y1):
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="-|>", lw=0.6, color=COLORS["black"],
                                        mutation_scale=7, shrinkA=0, shrinkB=0))

        def seg(xs, ys):
            ax.plot(xs, ys, color=COLORS["black"], lw=0.6, solid_capstyle="butt")

        root, main = s["root"], s["main"]
        k = W / LAYOUT_WIDTH   # boxes placed for LAYOUT_WIDTH, scaled to the journal's width
        trunk_x = 2.55 * k
        main_w = 2.7
        box(root, trunk_x, y_root_top, main_w, [root["label"], f"n = {int(root['n'])}"])
        box(main, trunk_x, y_main_top, main_w,
            [main["label"], f"n = {int(main['n'])}"])
        arrow(trunk_x, y_root_top + box_h, trunk_x, y_main_top)

        if s["exclusion"] is not None:
            ex = s["exclusion"]
            ex_w = 2.95 * k
            ex_x = W - 0.12 - ex_w / 2
            ex_top = (y_root_top + box_h + y_main_top) / 2 - excl_h / 2
            lines = [f"{ex['label']} (n = {int(ex['n'])})"]
            lines += [f"\u2022 {r} (n = {int(n)})" for r, n in zip(reasons["reason"], reasons["n"])]
            box(ex, ex_x, ex_top, ex_w, lines, height=excl_h, align="left")
            arrow(trunk_x, ex_top + excl_h / 2, ex_x - ex_w / 2, ex_top + excl_h / 2)

        # regimen classes, side by side
        margin, cgap = 0.12, 0.14
        cw = (W - 2 * margin - (n_classes - 1) * cgap) / max(n_classes, 1)
        centers = [margin + cw / 2 + k * (cw + cgap) for k in range(n_classes)]
        bus1 = y_class_top - 0.24
        if n_classes:
            seg([trunk_x, trunk_x], [y_main_top + box_h, bus1])
            seg([min(centers[0], trunk_x), max(centers[-1], trunk_x)], [bus1, bus1])
        for cx, c, pc in zip(centers, s["classes"], s["per_class"]):
            arrow(cx, bus1, cx, y_class_top)
            box(c, cx, y_class_top, cw, [c["label"], f"n = {int(c['n'])}"])
            if pc is not None:
                arrow(cx, y_class_top + box_h, cx, y_pc_top)
                box(pc, cx, y_pc_top, cw,
                    [_short_outcome(pc["label"]), f"n = {style.fmt_n_pct(int(pc['n']), int(c['n']))}"])

        summary = s["summary"]
        if summary is not None:
            sum_x = W / 2
            bus2 = y_sum_top - 0.24
            bottoms = [cx for cx, pc in zip(centers, s["per_class"]) if pc is not None]
            if bottoms:
                for cx in bottoms:
                    seg([cx, cx], [y_pc_top + box_h, bus2])
                seg([min(bottoms[0], sum_x), max(bottoms[-1], sum_x)], [bus2, bus2])
                arrow(sum_x, bus2, sum_x, y_sum_top)
            box(summary, sum_x, y_sum_top, main_w,
                [summary["label"], f"n = {style.fmt_n_pct(int(summary['n']), int(main['n']))}"])
            for f in s["final"]:
                arrow(sum_x, y_sum_top + box_h, sum_x, y_final_top)
                box(f, sum_x, y_final_top, main_w,
                    [f["label"], f"n = {style.fmt_n_pct(int(f['n']), int(summary['n']))}"])
        top = note_top
        for nt, lines_, h in zip(s["notes"], note_lines, note_hs):
            box(nt, note_left + note_w / 2, top, note_w, lines_, height=h, bold_first=False)
            top += h + 0.1
        return _finish(fig, results.synthetic)

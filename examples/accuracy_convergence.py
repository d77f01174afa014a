"""Accuracy convergence: max error of d/dx sin(x) against the grid size, for accuracy 2, 4, 6.

Uniform and smoothly stretched grids; the error includes the one-sided stencils at the ends.
Slopes of -2, -4 and -6 on the log-log plot are the orders of accuracy.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _gallery import parse, save

import xgrad


def stretched(n: int) -> np.ndarray:
    s = np.linspace(0.0, 1.0, n)
    return 2 * np.pi * (s + 0.15 * np.sin(2 * np.pi * s) / (2 * np.pi))


def main() -> None:
    args = parse(__doc__.splitlines()[0], "accuracy_convergence.png")
    sizes = [16, 32, 64, 128] if args.fast else [16, 32, 64, 128, 256, 512, 1024]
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for accuracy, color in ((2, "tab:blue"), (4, "tab:orange"), (6, "tab:green")):
        for grid, style in (("uniform", "-o"), ("stretched", "--s")):
            errors = []
            for n in sizes:
                x = np.linspace(0, 2 * np.pi, n) if grid == "uniform" else stretched(n)
                d = xgrad.gradient(np.sin(x), x, accuracy=accuracy, edge_order=2)
                errors.append(np.abs(d - np.cos(x)).max())
            orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
            print(f"accuracy={accuracy} {grid:9s} orders {np.round(orders, 2)}")
            ax.loglog(sizes, errors, style, color=color, label=f"accuracy={accuracy}, {grid}", ms=4)
    ax.set_xlabel("grid points")
    ax.set_ylabel("max |error| of d/dx sin(x)")
    ax.set_title("Convergence of xgrad's stencils (edges included)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    save(fig, args.out)


if __name__ == "__main__":
    main()

"""PNG heatmaps of a mapping on the mesh: per router, the highest utilisation of any resource on any of its cores
(fraction of the core's limit) and the messages per inference into and out of its cores. matplotlib is imported
lazily (extras ``plot`` / ``test``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssr_neuro.files import atomic_write, pyplot

from mapping.pieces import limit


def mesh_grids(mapping, chip) -> tuple[np.ndarray, np.ndarray]:
    """(utilisation [rows, cols] as the max fraction over resources and cores, traffic [rows, cols] in + out)."""
    util = np.zeros((chip.mesh.rows, chip.mesh.cols))
    traffic = np.zeros_like(util)
    for c in mapping.cores:
        r, col, _ = c.mesh
        frac = max(c.resources[k] / limit(chip, k) for k in c.resources)
        util[r, col] = max(util[r, col], frac)
        traffic[r, col] += c.messages_in + c.messages_out
    return util, traffic


def plot_mapping(mapping, chip, path) -> None:
    """Write a PNG with two heatmaps of the mesh (utilisation, traffic); the io router is marked."""
    plt = pyplot()
    util, traffic = mesh_grids(mapping, chip)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 0.6 * chip.mesh.cols * 2, 1.5 + 0.6 * chip.mesh.rows))
    panels = ((axes[0], util, "utilisation (max over resources)", "viridis", 0.0, 1.0),
              (axes[1], traffic, "messages / inference in + out", "magma", 0.0, None))
    for ax, grid, title, cmap, lo, hi in panels:
        im = ax.imshow(grid, cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("col")
        ax.set_ylabel("row")
        ax.plot(chip.mesh.io_router[1], chip.mesh.io_router[0], marker="s", mfc="none", mec="red", ms=12)
        fig.colorbar(im, ax=ax, shrink=0.8)
    s = mapping.summary()
    fig.suptitle(f"{s['chip']}: {s['cores_used']} cores, strategy {s['strategy']}, "
                 f"hop-weighted traffic {s['hop_weighted_traffic']:,.0f}", fontsize=9)
    fig.tight_layout()
    atomic_write(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    plt.close(fig)
